#!/usr/bin/env bash
# The README's run command: a whole cloud on this machine, in one command.
#
#   scripts/up.sh                 # front-end + this machine as a kvm host + network + image + template
#   scripts/up.sh --dummy-hosts 100   # every `edgecloud up` flag passes through (see --help)
#
# As root it first installs the host packages (QEMU, libvirt, bridges, nftables...) from the
# distribution; without root the local host is simulated. It builds the `edgecloud` binary, puts an
# `edgecloud` command on the PATH (/usr/local/bin as root, else ~/.local/bin), and runs
# `edgecloud up`: state in /var/lib/edgecloud (root) or ~/.edgecloud, API on port 2633. Ctrl-C stops it; run it again to continue.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [[ $(id -u) -eq 0 ]]; then
  scripts/install-host-deps.sh
else
  echo "up.sh: not root: the local host will be simulated (run as root for real VMs)" >&2
fi

echo "up.sh: building edgecloud..." >&2
dotnet publish src/EdgeCloud -c Release -o .build/edgecloud -nologo -v quiet -clp:ErrorsOnly >&2

bin=/usr/local/bin
[[ $(id -u) -eq 0 ]] || { bin="$HOME/.local/bin"; mkdir -p "$bin"; }
printf '#!/bin/sh\nexec dotnet "%s" "$@"\n' "$(pwd)/.build/edgecloud/edgecloud.dll" > "$bin/edgecloud"
chmod +x "$bin/edgecloud"
case ":$PATH:" in *":$bin:"*) ;; *) echo "up.sh: add $bin to your PATH to use the edgecloud command" >&2 ;; esac

exec "$bin/edgecloud" up "$@"
