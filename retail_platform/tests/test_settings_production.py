"""Production settings, checked the way a deployment meets them: in a fresh process, from the
environment only."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _production_env(**overrides: str) -> dict[str, str]:
    # Switches that only tests set (the browser tests allow async-unsafe ORM calls) are not production's.
    test_only = ("DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {key: value for key, value in os.environ.items() if key not in test_only}
    env.update(
        DJANGO_SETTINGS_MODULE="retail_platform.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="retail.example.com",
    )
    env.update(overrides)
    return env


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def _setting(name: str, env: dict[str, str]) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_manage_py_check_deploy_passes_with_production_settings() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_would_catch_an_insecure_setting() -> None:
    # The check above proves something only if it fails when production is weakened.
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _production_env(SECURE_SSL_REDIRECT="false"),
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set"),
    ],
)
def test_production_start_up_without_a_required_setting_fails_with_a_clear_message(missing: str, message: str) -> None:
    # An empty variable wins over a developer's .env file (read without overwriting).
    result = _run(["manage.py", "check"], _production_env(**{missing: ""}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_debug_is_off_in_production_unless_asked_for() -> None:
    assert _setting("DEBUG", _production_env()) == "False"
    assert _setting("DEBUG", _production_env(DEBUG="true")) == "True"


def test_production_cookies_and_transport_are_secure() -> None:
    env = _production_env()
    assert _setting("SESSION_COOKIE_SECURE", env) == "True"
    assert _setting("CSRF_COOKIE_SECURE", env) == "True"
    assert _setting("SECURE_SSL_REDIRECT", env) == "True"
    assert _setting("SECURE_PROXY_SSL_HEADER", env) == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert int(_setting("SECURE_HSTS_SECONDS", env)) >= 31536000
