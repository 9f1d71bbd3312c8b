from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

from retail_platform.citus import tables_distribute


def _role_groups_ensure(sender: Any, **kwargs: Any) -> None:
    from retail_platform.roles import role_groups_ensure

    role_groups_ensure(using=kwargs.get("using", "default"))


def _tables_lay_out(sender: Any, **kwargs: Any) -> None:
    """After `migrate` (not after a flush, which keeps the tables where they are): on a Citus
    coordinator, every table goes where `retail_platform.citus.LAYOUT` says; elsewhere nothing."""
    if kwargs.get("plan") is None:
        return
    tables_distribute()


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
        # Once per migrate, when every app's migrations have run.
        post_migrate.connect(
            _tables_lay_out, sender=apps.get_app_config("campaigns"), dispatch_uid="retail_platform.citus_layout"
        )
