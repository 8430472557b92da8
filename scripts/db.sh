#!/usr/bin/env bash
# The project-local PostGIS cluster: var/pg (data), a unix socket only (no TCP listener).
#   scripts/db.sh start    start it (init on first use); reuse it when it already runs
#   scripts/db.sh stop     stop it, only if this project's scripts started it
#   scripts/db.sh status
# With DATABASE_URL set, the local cluster is not used and this script does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ -n "${DATABASE_URL:-}" ]; then
  echo "database: DATABASE_URL is set, using it instead of the local cluster"
  exit 0
fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=55432
DBNAME=plategrid
DATA=$ROOT/var/pg
SOCKET=$ROOT/var/run
MARK=$ROOT/var/pg-started-by-plategrid

# A unix socket path may not exceed 107 bytes; when the checkout lives deep, use a short private
# folder named after a hash of the checkout path. Django reads the choice from var/pgsocket.
if [ $(( ${#SOCKET} + ${#PORT} + 11 )) -gt 107 ]; then
  SOCKET=/tmp/plategrid-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)
  echo "database: checkout path too long for a unix socket; using $SOCKET"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  [ -x "$PGBIN/initdb" ] || { echo "error: PostgreSQL 15 not found in $PGBIN (run scripts/system-packages.sh)" >&2; exit 1; }
  mkdir -p "$ROOT/var"
  printf '%s\n' "$SOCKET" > "$ROOT/var/pgsocket"
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses root: the server runs as the postgres system user, which must reach var/.
    if ! runuser -u postgres -- test -x "$ROOT/var"; then
      echo "error: the postgres system user cannot reach $ROOT/var; every parent folder needs o+x" >&2
      echo "       (for example: chmod o+x $(dirname "$ROOT")), or set DATABASE_URL to use another PostGIS." >&2
      exit 1
    fi
  fi
  mkdir -p "$DATA" "$SOCKET"
  chmod 700 "$DATA" "$SOCKET"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DATA" "$SOCKET"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    echo "database: initialising cluster in $DATA"
    as_owner "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if running; then
    echo "database: already running ($SOCKET)"
  else
    echo "database: starting on $SOCKET"
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start \
      -o "-k $SOCKET -p $PORT -c listen_addresses='' -c unix_socket_permissions=0700 -c shared_buffers=512MB -c work_mem=32MB -c maintenance_work_mem=256MB" >/dev/null
    touch "$MARK"
  fi
  psql=(psql -X -q -h "$SOCKET" -p "$PORT" -U postgres)
  if ! "${psql[@]}" -d postgres -tAc "select 1 from pg_database where datname='$DBNAME'" | grep -q 1; then
    "${psql[@]}" -d postgres -c "create database $DBNAME"
  fi
  for ext in postgis pg_trgm; do
    "${psql[@]}" -d "$DBNAME" -c "create extension if not exists $ext" 2>&1 | grep -v 'already exists' || true
  done
  # Test databases are created from template1: give it the extensions too.
  for ext in postgis pg_trgm; do
    "${psql[@]}" -d template1 -c "create extension if not exists $ext" 2>&1 | grep -v 'already exists' || true
  done
}

stop() {
  if [ -f "$MARK" ] && running; then
    echo "database: stopping"
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  else
    echo "database: not started by plategrid, left alone"
  fi
  rm -f "$MARK"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on $SOCKET"; else echo "stopped"; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
