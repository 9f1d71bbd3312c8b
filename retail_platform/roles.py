"""Who may see what. Three groups, created by a data migration (analytics 0002):

- viewer: the pages and the aggregate API;
- analyst: adds customer-level data, exports, simulations and saved scenarios;
- staff (Django `is_staff`, or superuser): imports, refits and the admin (superusers also manage users).

Each role includes the ones before it. Views and endpoints ask these functions, never group names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

VIEWER = "viewer"
ANALYST = "analyst"
ROLE_GROUPS = (VIEWER, ANALYST)


def _group_names(user: Any) -> set[str]:
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_group_names = cached
    return cached


def group_names_known(user: Any, names: Iterable[str]) -> None:
    """The user's group names, read along with the user (one query less per request for the checks)."""
    user._role_group_names = set(names)


def user_is_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def user_is_analyst(user: Any) -> bool:
    if user_is_staff(user):
        return True
    return bool(user and user.is_authenticated and user.is_active and ANALYST in _group_names(user))


def user_is_viewer(user: Any) -> bool:
    if user_is_analyst(user):
        return True
    return bool(user and user.is_authenticated and user.is_active and VIEWER in _group_names(user))


def role_groups_ensure(*, using: str = "default") -> None:
    """Create the role groups that are missing (idempotent; they carry no model permissions)."""
    from django.contrib.auth.models import Group

    for name in ROLE_GROUPS:
        Group.objects.using(using).get_or_create(name=name)


def roles_context(request: HttpRequest) -> dict[str, bool]:
    """Template context: what the signed-in person may do (navigation hides what they may not)."""
    user = getattr(request, "user", None)
    return {
        "can_view": user_is_viewer(user),
        "can_see_customers": user_is_analyst(user),
        "can_manage": user_is_staff(user),
    }
