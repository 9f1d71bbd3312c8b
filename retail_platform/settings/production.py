"""Production settings: secure by default, everything else from the environment.

Required: SECRET_KEY and ALLOWED_HOSTS (start-up stops with a message naming what is missing).
DATABASE_URL is strongly advised (without it the embedded server starts). Runs behind a
TLS-terminating proxy that sets X-Forwarded-Proto; see .env.example for every variable.
"""

from django.core.exceptions import ImproperlyConfigured

from retail_platform.settings.base import *  # noqa: F403
from retail_platform.settings.base import env

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production settings need a long random SECRET_KEY in the environment "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Production settings need the host names the site answers to, "
        "comma-separated, in the environment (for example: ALLOWED_HOSTS=retail.example.com)."
    )

# Behind the proxy: trust its X-Forwarded-Proto, redirect plain HTTP, pin HTTPS with HSTS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
