#!/usr/bin/env bash
# `make test`: the whole suite on a real PostgreSQL, real django-q2 workers and Debian's Chromium, on
# the embedded server (PostgreSQL 18; or DATABASE_URL when it is set); then again, but for the tests
# listed in LEFT_OUT below, on a throwaway cluster of Debian's PostgreSQL 15, the oldest version
# supported. Extra arguments go to both runs; TEST_POSTGRESQL_15=0 skips the second (a quick local
# run of a few tests).
set -euo pipefail
cd "$(dirname "$0")/.."

PG15_BIN=/usr/lib/postgresql/15/bin
SECOND_RUN="${TEST_POSTGRESQL_15:-1}"

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

started=$SECONDS
echo "== The suite on $(server_version)"
.venv/bin/python -m pytest --create-db "$@"
echo "== $((SECONDS - started)) s"
if [ "$SECOND_RUN" = "0" ]; then
  exit 0
fi

# A throwaway PostgreSQL 15 cluster: its own directory and a free port, run by an unprivileged user
# (PostgreSQL refuses to run as root), stopped and deleted on the way out, whatever happened.
CLUSTER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/retail-postgresql-15.XXXXXX")"
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
cluster_remove() {
  as_owner "$PG15_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER_DIR"
}
trap cluster_remove EXIT
trap 'exit 130' INT TERM
if [ "$(id -u)" = "0" ]; then
  chown postgres "$CLUSTER_DIR"
fi
PORT="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_owner "$PG15_BIN/initdb" -D "$CLUSTER_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Server defaults otherwise (work_mem 4 MB...); durability is not needed for a throwaway cluster.
as_owner "$PG15_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start -o \
  "-c port=$PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$CLUSTER_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  >/dev/null
as_owner "$PG15_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres retail
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/retail"

# The second run leaves out the tests whose subject is processes, a browser or settings rather than
# SQL (both runs of the whole suite took about 25 minutes on a shared 2-core machine): every statement
# they send is also sent by tests that stay (pages by the view tests, imports in a worker by
# test_imports_worker, django-q's broker by it and by test_schedules), and the outage tests bring a
# server of their own.
LEFT_OUT=(
  tests/browser
  tests/reliability/test_database_outage.py
  tests/reliability/test_worker_faults.py
  tests/reliability/test_task_timeout.py
  tests/reliability/test_run_command.py
  retail_platform/tests/test_settings_production.py
  retail_platform/tests/test_gunicorn_conf.py
)
started=$SECONDS
echo "== The suite again on $(server_version), a throwaway cluster on port $PORT (leaving out ${LEFT_OUT[*]})"
status=0
.venv/bin/python -m pytest --create-db "${LEFT_OUT[@]/#/--deselect=}" "$@" || status=$?
echo "== $((SECONDS - started)) s"
# 5: every test asked for was left out (a run of browser tests only, say).
if [ "$status" != 0 ] && [ "$status" != 5 ]; then
  exit "$status"
fi
