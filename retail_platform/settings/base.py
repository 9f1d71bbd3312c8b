"""Settings shared by every environment. The environment is read here and only here (django-environ)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

from retail_platform.embedded_db import database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "csp",
    "retail_platform",
    "analytics",
    "segmentation",
    "campaigns",
]

MIDDLEWARE = [
    "retail_platform.compression.PageGZipMiddleware",  # outermost: it compresses the finished page
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "retail_platform.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "retail_platform.content_security_policy.CSPMiddleware",  # django-csp's, headers built once
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "retail_platform.urls"
WSGI_APPLICATION = "retail_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "retail_platform.roles.roles_context",
                "retail_platform.formatting.currency_context",
            ],
        },
    },
]

# PostgreSQL everywhere: DATABASE_URL, or the embedded server when it is not set.
DATABASES = {"default": env.db_url_config(database_url())}
DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"])
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that polls the idle socket before sending SELECT 1.
    DATABASES["default"]["ENGINE"] = "retail_platform.postgresql"
DATABASES["default"]["OPTIONS"] = {
    "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=3),
    # The product sets the memory its sorts and hashes may use on every connection, so its plans and
    # speed do not depend on the server's own default (4 MB on a stock server).
    "options": f"-c work_mem={env.str('DB_WORK_MEM', default='64MB')}",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "analytics:overview"
LOGOUT_REDIRECT_URL = "login"

# Login rate limit against password guessing (django-axes): lock a user+IP pair after 5 failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind N reverse proxies the client is the Nth address from the right of X-Forwarded-For; with 0
# only REMOTE_ADDR counts, so nobody dodges the login limit or the API throttle with a made-up header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "retail_platform.client_ip.client_ip_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, gzipped names with far-future caching, DEBUG or not (retail_platform/staticfiles.py);
# `collectstatic` writes them (the Procfile's web process and `make run` run it first).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "retail_platform.staticfiles.StaticFilesStorage"},
}
# Hashed names under DEBUG too, from the files `collectstatic` wrote (scripts/run.sh turns it on).
STATIC_COLLECTED = env.bool("STATIC_COLLECTED", default=False)
# Files served at the site's root, such as /favicon.ico (short caching: their names carry no hash).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"

# Uploads stream to disk past this size; the import size limit itself is IMPORT_MAX_UPLOAD_BYTES,
# enforced while the body is read by the first upload handler (answers 413 in the API).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "retail_platform.uploads.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Imports
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=500 * 1024 * 1024)
IMPORT_MAX_ATTEMPTS = env.int("IMPORT_MAX_ATTEMPTS", default=3)
IMPORT_INBOX_DIR = Path(env("IMPORT_INBOX_DIR", default=str(BASE_DIR / "var" / "inbox")))
# Try the columnar import path first (off: every file takes the SQL path, which checks row by row).
IMPORT_COLUMNAR = env.bool("IMPORT_COLUMNAR", default=True)

# The currency of every amount (ISO 4217 code): pages, charts, exports and the API schema say it.
# The demo data are Istanbul malls, in Turkish lira.
CURRENCY = env("CURRENCY", default="TRY").strip().upper()
if not re.fullmatch(r"[A-Z]{3}", CURRENCY):
    raise ImproperlyConfigured(
        f"CURRENCY must be an ISO 4217 code of three letters, such as TRY or USD (got {CURRENCY!r})."
    )

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

# Content security policy (django-csp 4): our pages load scripts and styles from our own origin only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # plotly.js sets style attributes on the SVG it draws
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Axes logs usernames; keep it at WARNING so routine logins leave no personal data in logs.
        "axes": {"level": "WARNING"},
    },
}

from retail_platform.settings.q_cluster import *  # noqa: E402,F403
from retail_platform.settings.rest_framework import *  # noqa: E402,F403
