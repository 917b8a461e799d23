#!/usr/bin/env bash
# API benchmark: starts a Release front-end on a fresh data directory (SQLite), then drives it with
# the shared black-box client (../shared/bench/one-api-bench.py, when present) and with our .NET
# load driver (bench/EdgeCloud.Bench.Api). Prints RESULT lines; results also go to bench/results/.
#
#   bench/run-api-bench.sh [HOSTS VMS [CLIENTS]]      default 100 1000 8
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="${1:-100}"; vms="${2:-1000}"; clients="${3:-8}"
out="bench/results"; mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
port="${BENCH_PORT:-26633}"
dotnet build src/EdgeCloud -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet build bench/EdgeCloud.Bench.Api -c Release -nologo -clp:ErrorsOnly >/dev/null

run_frontend() {
  local data; data="$(mktemp -d)"
  printf 'dummy-action-delay: 0.05\nscheduler-interval: 1\nmonitor-interval: 10\n' > "$data/bench.yaml"
  dotnet src/EdgeCloud/bin/Release/net10.0/edgecloud.dll frontend --data "$data" --port "$port" --agent-port -1 --config "$data/bench.yaml" > "$data/frontend.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [[ -s "$data/one_auth" ]] && curl -s -o /dev/null "http://127.0.0.1:$port/RPC2" -d '<x/>' && break; sleep 0.1; done
  auth="$data/one_auth"
}

echo "== .NET load driver: $hosts hosts, $vms VMs, $clients clients" | tee "$out/api-$stamp.txt"
run_frontend
dotnet bench/EdgeCloud.Bench.Api/bin/Release/net10.0/EdgeCloud.Bench.Api.dll --endpoint "http://127.0.0.1:$port/RPC2" --auth "$auth" \
  --hosts "$hosts" --vms "$vms" --clients "$clients" --pid "$pid" | tee -a "$out/api-$stamp.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true

shared_bench="../shared/bench/one-api-bench.py"
if [[ -f "$shared_bench" ]]; then
  echo "== shared one-api-bench.py: $hosts hosts, $vms VMs, 4 clients" | tee -a "$out/api-$stamp.txt"
  run_frontend
  python3 "$shared_bench" --endpoint "http://127.0.0.1:$port/RPC2" --auth "$(cat "$auth")" -H "$hosts" -V "$vms" -C 4 \
    --poll 0.2 --pid "$pid" --phases hosts,alloc,deploy,list,actions,rss | tee -a "$out/api-$stamp.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
fi
