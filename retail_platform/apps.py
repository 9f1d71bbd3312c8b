from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _role_groups_ensure(sender: Any, **kwargs: Any) -> None:
    from retail_platform.roles import role_groups_ensure

    role_groups_ensure(using=kwargs.get("using", "default"))


class RetailPlatformConfig(AppConfig):
    name = "retail_platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        # The data migration (analytics 0002) makes the groups; `flush` (a transactional test's
        # teardown, or an operator's) empties every table and then sends post_migrate, so the role
        # groups come back the way Django's permissions and content types do.
        # Sent per app with models; the groups live in auth's tables.
        post_migrate.connect(
            _role_groups_ensure, sender=apps.get_app_config("auth"), dispatch_uid="retail_platform.role_groups"
        )
