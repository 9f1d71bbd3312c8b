#!/usr/bin/env bash
# `make run`: database, migrations, admin account, demo data, worker and web server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-retail_platform.settings.dev}"
# Served as in production, with no debug pages (they list every URL pattern and show tracebacks to
# anyone who asks): `DEBUG=true make run` turns them on.
export DEBUG="${DEBUG:-false}"

if [ -z "${DATABASE_URL:-}" ]; then
  echo "DATABASE_URL is not set: starting the embedded PostgreSQL server (data in .pgdata/)"
  DATABASE_URL="$($PY -m retail_platform.embedded_db)"
  export DATABASE_URL
fi

$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput >/dev/null
# Pages ask for the collected files' hashed names, which whitenoise serves gzipped and cached for good.
export STATIC_COLLECTED=true
$PY manage.py bootstrap_admin
$PY manage.py setup_schedules
$PY manage.py load_demo

$PY manage.py qcluster &
WORKER_PID=$!
trap 'kill $WORKER_PID 2>/dev/null || true' EXIT INT TERM

echo
echo "Retail analytics is running at http://127.0.0.1:${PORT}/  (admin: http://127.0.0.1:${PORT}/admin/)"
echo "Press Ctrl+C to stop."
# The Procfile's gunicorn settings (retail_platform/gunicorn_conf.py), on this machine only, with the
# access log on (paths without query strings).
.venv/bin/gunicorn --config python:retail_platform.gunicorn_conf retail_platform.wsgi:application \
  --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile -
