#!/usr/bin/env bash
# The test command (README's second set-up command; .ci/run calls exactly this).
#
#   scripts/test.sh                 # every test project
#   scripts/test.sh --filter X      # extra arguments go to `dotnet test`
#
# It makes the tests' prerequisites available first (the host packages of the hypervisor tests and a
# PostgreSQL server for the store and API suites, installed from Debian's packages when missing),
# builds once, runs the tests with TRX results, and ends with one line "N passed, N failed" counted
# from those results.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Host packages for the hypervisor tests (QEMU, libvirt, LXC, ISO tools): installed when missing.
# Without them those tests are skipped on a developer's machine and fail in CI (CI=true).
if ! scripts/install-host-deps.sh; then
  echo "test.sh: host packages could not be installed; hypervisor tests will fail in CI and be skipped elsewhere" >&2
fi

results="$(pwd)/TestResults"
rm -rf "$results"
mkdir -p "$results"

# PostgreSQL for the tests that run on both backends (skipped on a developer's machine only when it cannot start).
if [[ -z "${EDGECLOUD_TEST_POSTGRES:-}" ]]; then
  if pg_env="$(scripts/postgres-test.sh start)"; then
    eval "$pg_env"
  else
    echo "test.sh: PostgreSQL could not be started; PostgreSQL tests will fail in CI and be skipped elsewhere" >&2
  fi
fi

dotnet build EdgeCloud.slnx -c Release -nologo -clp:ErrorsOnly
status=0
dotnet test EdgeCloud.slnx -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" \
  --logger "console;verbosity=normal" "$@" || status=$?

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
files = glob.glob(sys.argv[1] + "/**/*.trx", recursive=True)
for f in files:
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None:
        continue
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    skipped += int(c.get("notExecuted", 0))
    # Name each failed test with the first line of its message, so the end of the log says what broke.
    for r in ET.parse(f).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") in ("Failed", "Error", "Timeout", "Aborted"):
            msg = r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns).strip().splitlines()
            print(f"FAILED {r.get('testName')}: {msg[0][:300] if msg else ''}")
if not files:
    print("no test results found", file=sys.stderr)
    failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
