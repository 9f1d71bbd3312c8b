#!/usr/bin/env bash
# `make test`: the whole suite on a real PostgreSQL, real django-q2 workers and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
  else
    echo "chromium is missing: run 'sudo apt-get install chromium' (the browser tests need /usr/bin/chromium)" >&2
    exit 1
  fi
fi

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(.venv/bin/python -m retail_platform.embedded_db)"
  export DATABASE_URL
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python manage.py makemigrations --check --dry-run --settings=retail_platform.settings.test >/dev/null
exec .venv/bin/python -m pytest --create-db "$@"
