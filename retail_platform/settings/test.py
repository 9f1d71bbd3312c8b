"""Settings for the test suite: the same PostgreSQL setup, with faster hashing and no throttling noise."""

from retail_platform.settings.base import *  # noqa: F403
from retail_platform.settings.base import DATABASES, REST_FRAMEWORK, env

SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - tests only
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Parallel test runs on one server each use their own database (TEST_DATABASE_NAME).
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_retail")}
# Connections closed after each request; the outage tests keep them as production does.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("TEST_DB_CONN_MAX_AGE", default=0)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/minute", "user": "100000/minute"}
AXES_ENABLED = env.bool("AXES_ENABLED", default=False)
