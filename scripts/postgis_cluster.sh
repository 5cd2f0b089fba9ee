#!/usr/bin/env bash
# A throwaway PostGIS cluster for tests and benchmarks.
#
#   scripts/postgis_cluster.sh start DIR   -> prints RISKMAP_DATABASE_URL=... on stdout
#   scripts/postgis_cluster.sh stop DIR
#
# Installs PostgreSQL 15 + PostGIS 3 with apt when missing (needs root for that).
# initdb/postgres refuse to run as root, so as root the cluster runs as "postgres".
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: postgis_cluster.sh start|stop DIR}
dir=${2:?usage: postgis_cluster.sh start|stop DIR}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_postgis() {
  if [ -x "$PGBIN/initdb" ] && [ -f /usr/share/postgresql/15/extension/postgis.control ]; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "PostGIS is not installed and this is not root: apt-get install postgresql-15-postgis-3" >&2
    exit 1
  fi
  echo "installing PostgreSQL 15 + PostGIS 3 with apt ..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postgresql-15-postgis-3 >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  install_postgis
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  local port; port=$(free_port)
  as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  as_owner "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt \
    -c "CREATE DATABASE riskmap" -c "CREATE DATABASE riskmap_nopostgis" >/dev/null
  as_owner "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d riskmap -qAt \
    -c "CREATE EXTENSION postgis" >/dev/null
  echo "$port" > "$dir/port"
  echo "RISKMAP_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/riskmap"
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: postgis_cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
