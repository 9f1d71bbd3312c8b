#!/usr/bin/env bash
# `make test`: the whole suite on a real PostgreSQL, real django-q2 workers and Debian's Chromium, on
# the embedded server (PostgreSQL 18; or DATABASE_URL when it is set); then again, but for the tests
# listed in LEFT_OUT below, on a throwaway cluster of Debian's PostgreSQL 15, the oldest version
# supported; then the same tests on a throwaway Citus cluster (a coordinator and two workers, Citus
# built once into a cache outside the repository: scripts/citus_cluster.sh). Extra arguments go to
# every run; TEST_POSTGRESQL_15=0 and TEST_CITUS=0 skip those runs (a quick local run of a few tests).
set -euo pipefail
cd "$(dirname "$0")/.."

PG15_BIN=/usr/lib/postgresql/15/bin
SECOND_RUN="${TEST_POSTGRESQL_15:-1}"
CITUS_RUN="${TEST_CITUS:-1}"

apt_install() {
  local package="$1" binary="$2" why="$3"
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's $package $why"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null)
  else
    echo "$package is missing: run 'sudo apt-get install $package' ($why needs $binary)" >&2
    exit 1
  fi
}

if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium /usr/bin/chromium "for the browser tests"
fi
if [ "$SECOND_RUN" != "0" ] && [ ! -x "$PG15_BIN/postgres" ]; then
  apt_install postgresql-15 "$PG15_BIN/postgres" "for the second run of the suite"
fi

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(.venv/bin/python -m retail_platform.embedded_db)"
  export DATABASE_URL
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python manage.py makemigrations --check --dry-run --settings=retail_platform.settings.test >/dev/null

server_version() {
  .venv/bin/python -c 'import os, psycopg
with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=10) as connection:
    print("PostgreSQL", connection.info.parameter_status("server_version"))'
}

# The runs after the first leave out the tests whose subject is processes, a browser or settings
# rather than SQL (both runs of the whole suite took about 25 minutes on a shared 2-core machine):
# every statement they send is also sent by tests that stay (pages by the view tests, imports in a
# worker by test_imports_worker, django-q's broker by it and by test_schedules), and the outage tests
# bring a server of their own.
LEFT_OUT=(
  tests/browser
  tests/reliability/test_database_outage.py
  tests/reliability/test_worker_faults.py
  tests/reliability/test_task_timeout.py
  tests/reliability/test_run_command.py
  retail_platform/tests/test_settings_production.py
  retail_platform/tests/test_gunicorn_conf.py
)
# The suite again on DATABASE_URL, less LEFT_OUT: `suite_again WHERE [pytest arguments]`. Exit status
# 5 (every test asked for was left out: a run of browser tests only, say) counts as passed.
suite_again() {
  local where="$1" status=0 started=$SECONDS
  shift
  echo "== The suite on $(server_version), $where (leaving out ${LEFT_OUT[*]})"
  .venv/bin/python -m pytest --create-db "${LEFT_OUT[@]/#/--deselect=}" "$@" || status=$?
  echo "== $((SECONDS - started)) s"
  if [ "$status" != 0 ] && [ "$status" != 5 ]; then
    exit "$status"
  fi
}

SINGLE_SERVER_DATABASE_URL="$DATABASE_URL"
export SINGLE_SERVER_DATABASE_URL
started=$SECONDS
echo "== The suite on $(server_version)"
.venv/bin/python -m pytest --create-db "$@"
echo "== $((SECONDS - started)) s"

# Throwaway servers (a PostgreSQL 15 cluster, a Citus cluster): their own directories and free ports,
# run by an unprivileged user (PostgreSQL refuses to run as root), stopped and deleted on the way out,
# whatever happened.
CLUSTER_DIR=""
CITUS_DIR=""
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
servers_remove() {
  if [ -n "$CLUSTER_DIR" ]; then
    as_owner "$PG15_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR"
  fi
  if [ -n "$CITUS_DIR" ]; then
    bash scripts/citus_cluster.sh stop "$CITUS_DIR" || true
    rm -rf "$CITUS_DIR"
  fi
}
trap servers_remove EXIT
trap 'exit 130' INT TERM
free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ "$SECOND_RUN" != "0" ]; then
  CLUSTER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/retail-postgresql-15.XXXXXX")"
  if [ "$(id -u)" = "0" ]; then
    chown postgres "$CLUSTER_DIR"
  fi
  PORT="$(free_port)"
  as_owner "$PG15_BIN/initdb" -D "$CLUSTER_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # Server defaults otherwise (work_mem 4 MB...); durability is not needed for a throwaway cluster.
  as_owner "$PG15_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start -o \
    "-c port=$PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$CLUSTER_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null
  as_owner "$PG15_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres retail
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/retail"
  suite_again "a throwaway cluster on port $PORT" "$@"
fi

if [ "$CITUS_RUN" != "0" ]; then
  # A coordinator and two workers on this machine (Citus built on the first run, about 3 minutes, then
  # reused). The test database is made on every node and migrate lays the tables out, as on a real
  # cluster; tests/citus compares the cluster's answers with those of the first run's server.
  bash scripts/citus_cluster.sh build >/dev/null
  CITUS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/retail-citus.XXXXXX")"
  DATABASE_URL="$(bash scripts/citus_cluster.sh start "$CITUS_DIR" 2 | tail -1)"
  export DATABASE_URL
  suite_again "with Citus, a coordinator and two workers on ${DATABASE_URL##*@}" "$@"
fi
