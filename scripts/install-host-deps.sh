#!/usr/bin/env bash
# Installs what a real EdgeCloud host (and the tests that drive real hosts) needs, from Debian's
# packages: QEMU (TCG/KVM), libvirt started by hand (no systemd), LXC, the networking tools
# (bridges, VXLAN, nftables, dnsmasq) and the tools that build context ISOs and the test guest.
# Idempotent: packages already present are not touched. Needs root (or sudo).
#
#   scripts/install-host-deps.sh          # install missing packages
#   scripts/install-host-deps.sh --check  # exit 1 if something is missing, install nothing
set -euo pipefail

packages=(
  qemu-system-x86 qemu-utils
  libvirt-daemon-system libvirt-daemon-system-sysv libvirt-clients libvirt-daemon-driver-qemu
  lxc lxc-templates busybox-static
  iproute2 bridge-utils nftables iptables dnsmasq-base tcpdump
  genisoimage libxml2-utils e2fsprogs cpio syslinux syslinux-common mtools dosfstools fdisk kmod
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then exit 0; fi
if [[ "${1:-}" == "--check" ]]; then echo "missing host packages: ${missing[*]}" >&2; exit 1; fi

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "install-host-deps: installing ${missing[*]}" >&2
# Never start daemons from package scripts (there is no init system to own them here).
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
