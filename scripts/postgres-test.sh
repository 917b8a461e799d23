#!/usr/bin/env bash
# Makes a throw-away PostgreSQL server available for the store's tests (tests/EdgeCloud.Store.Tests).
#
#   eval "$(scripts/postgres-test.sh)"        # start (installing/initialising as needed), export the variable
#   scripts/postgres-test.sh start [DIR]      # same; prints: export EDGECLOUD_TEST_POSTGRES='Host=...'
#   scripts/postgres-test.sh stop [DIR]       # stops the server (data kept for the next start)
#   scripts/postgres-test.sh status [DIR]     # exit 0 when running
#
# Idempotent: every step checks first (binaries, system user, cluster, running server, role), so it can
# run on every CI run and on a machine where a previous run left the cluster. Meant for a Debian 12
# machine as root; PostgreSQL comes from Debian's packages when missing.
#
# Settings (environment): PGPORT (default 55432), EDGECLOUD_PG_DIR (default /tmp/edgecloud-pg; the
# second argument wins). The server listens on 127.0.0.1 only, with fsync on, and its Unix socket lives
# in the directory (so it never collides with a system cluster). The role "edgecloud" has CREATEDB: the
# tests create and drop a database per test class. Its password is generated once and kept in DIR.
#
# Only the export line goes to stdout (so `eval` sees nothing else); progress goes to stderr.
set -euo pipefail

cmd="${1:-start}"
dir="${2:-${EDGECLOUD_PG_DIR:-/tmp/edgecloud-pg}}"
port="${PGPORT:-55432}"
data="$dir/data"
log="$dir/server.log"
pwfile="$dir/password"
role=edgecloud

say() { echo "postgres-test: $*" >&2; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  return 1
}

as_pg() { runuser -u postgres -- "$@"; }

pgbin="$(find_bin || true)"

case "$cmd" in
  stop)
    if [[ -n "$pgbin" && -f "$data/PG_VERSION" ]] && as_pg "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_pg "$pgbin/pg_ctl" -D "$data" -m fast -w stop >&2
    else
      say "not running"
    fi
    exit 0
    ;;
  status)
    [[ -n "$pgbin" && -f "$data/PG_VERSION" ]] && as_pg "$pgbin/pg_ctl" -D "$data" status >&2
    exit $?
    ;;
  start) ;;
  *)
    echo "usage: $0 [start|stop|status] [DIR]" >&2
    exit 2
    ;;
esac

if [[ "$(id -u)" != 0 ]]; then
  say "must run as root (it installs packages and runs the server as the postgres user)"
  exit 1
fi

# 1. Binaries.
if [[ -z "$pgbin" ]]; then
  say "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  pgbin="$(find_bin)" || { say "no PostgreSQL binaries under /usr/lib/postgresql after install"; exit 1; }
fi
say "binaries: $pgbin"

# 2. The system user initdb and the server run as (they refuse root).
if ! id postgres >/dev/null 2>&1; then
  say "creating system user postgres"
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash --user-group postgres
fi

# 3. The cluster.
mkdir -p "$dir"
chown postgres: "$dir"
chmod 700 "$dir"
if [[ ! -s "$pwfile" ]]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$pwfile")
  chown postgres: "$pwfile"
fi
password="$(cat "$pwfile")"
if [[ ! -f "$data/PG_VERSION" ]]; then
  say "initialising a cluster in $data"
  as_pg "$pgbin/initdb" -D "$data" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >&2
fi

# 4. The server (127.0.0.1 only, fsync and synchronous commit on: the tests check durability).
if as_pg "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  say "already running"
else
  say "starting on 127.0.0.1:$port"
  # The server outlives this script: it must not keep descriptors the script inherited (e.g. a lock
  # file's, from `flock LOCK scripts/test.sh`), or it would hold that lock for as long as it runs.
  for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done || true
  as_pg "$pgbin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=on -c synchronous_commit=on -c max_connections=200" \
    start >&2 || { say "start failed; log follows"; tail -n 30 "$log" >&2; exit 1; }
fi

# 5. The role the tests use (password kept in step with the file).
as_pg "$pgbin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE $role WITH LOGIN CREATEDB PASSWORD '$password';
SQL

echo "export EDGECLOUD_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=$role;Password=$password;Database=postgres'"
