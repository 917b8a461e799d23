#!/usr/bin/env bash
# Host agent footprint: resident memory and CPU of `edgecloud agent` (kvm driver) while it keeps N
# idle VMs (the tiny test guest, direct kernel boot, 64 MiB each) monitored, pushing monitoring every
# MONITOR seconds. Front-end and agent run as separate processes, as in production.
#
#   bench/run-agent-idle.sh [N=20] [SECONDS=60] [MONITOR=10]      (root; QEMU and libvirt)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}; window=${2:-60}; monitor=${3:-10}
dotnet build src/EdgeCloud -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
bin="$(pwd)/src/EdgeCloud/bin/Release/net10.0/edgecloud.dll"
eval "$(scripts/build-test-guest.sh "${TMPDIR:-/tmp}/edgecloud-testguest" 2>/dev/null)"
chmod 755 "${TMPDIR:-/tmp}/edgecloud-testguest"
dir=$(mktemp -d "${TMPDIR:-/tmp}/ec-agent-bench.XXXXXX"); chmod 755 "$dir"
port=$((20000 + RANDOM % 20000)); aport=$((port + 1))
cleanup() {
  for i in $(seq 0 $((n - 1))); do virsh -c qemu:///system destroy "one-$i" >/dev/null 2>&1 || true; virsh -c qemu:///system undefine "one-$i" >/dev/null 2>&1 || true; done
  kill "$fe" "$agent" 2>/dev/null || true; wait 2>/dev/null || true; ip link del ecbrbench 2>/dev/null || true; rm -rf "$dir"
}
trap cleanup EXIT
printf "monitor-interval: %s\nscheduler-interval: 1\n" "$monitor" > "$dir/fe.yaml"
dotnet "$bin" frontend --data "$dir/fe" --port "$port" --agent-port "$aport" --config "$dir/fe.yaml" > "$dir/fe.log" 2>&1 & fe=$!
export ONE_XMLRPC="http://127.0.0.1:$port/RPC2" ONE_AUTH="$dir/fe/one_auth"
until [[ -s "$ONE_AUTH" ]] && dotnet "$bin" host list >/dev/null 2>&1; do sleep 0.5; done
token=$(dotnet "$bin" host create bench-host --im kvm --vm kvm --join-token | sed -n 's/^JOIN TOKEN: //p')
dotnet "$bin" agent --data "$dir/agent" --frontend "https://127.0.0.1:$aport" --join-token "$token" --hypervisor kvm --log-format text > "$dir/agent.log" 2>&1 & agent=$!
chmod 755 "$dir/agent" 2>/dev/null || true
cat > "$dir/tg.tpl" <<TPL
NAME=idle
CPU=0.1
MEMORY=64
OS=[KERNEL="$TG_KERNEL",INITRD="$TG_INITRD",KERNEL_CMD="$TG_CMDLINE tg.halt=wait tg.ctxwait=0"]
TPL
start=$(date +%s.%N)
for i in $(seq 1 "$n"); do dotnet "$bin" vm create "$dir/tg.tpl" >/dev/null; done
until [[ $(dotnet "$bin" vm list --json | grep -c '"LCM_STATE": "3"') -ge $n ]]; do sleep 2; done
echo "all $n VMs RUNNING after $(echo "$(date +%s.%N) - $start" | bc) s; letting them settle 30 s"
sleep 30
ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); sleep "$window"; t1=$(ticks)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
echo "agent with $n idle VMs, monitoring every ${monitor} s, over ${window} s:"
echo "  RSS: $((rss / 1024)) MiB"
echo "  CPU: $(echo "scale=2; 100 * ($t1 - $t0) / $hz / $window" | bc) % of one core"
