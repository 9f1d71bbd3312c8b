"""Local settings for `make run` and `manage.py` on a developer's machine (the default module)."""

from retail_platform.settings.base import *  # noqa: F403
from retail_platform.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
# A development-only key: production.py refuses to start without a real SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-not-for-production-use-0123456789")
