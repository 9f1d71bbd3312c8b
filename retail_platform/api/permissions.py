"""DRF permission classes, one per role (see retail_platform.roles). `IsViewer` is the default.

DRF checks throttles only after the permissions pass, so an anonymous caller, refused by every
endpoint, would never meet the anonymous rate limit. The role permissions therefore run the view's
throttles for anonymous callers before refusing them: a flood of anonymous calls gets 429.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from retail_platform import roles


class _RoleRequired(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            if hasattr(view, "check_throttles"):
                view.check_throttles(request)  # raises Throttled (429) once the anonymous rate is spent
            return False
        return self.role_allows(request.user)

    def role_allows(self, user: Any) -> bool:
        raise NotImplementedError


class IsViewer(_RoleRequired):
    message = "You need the viewer role (or higher) to use this endpoint."

    def role_allows(self, user: Any) -> bool:
        return roles.user_is_viewer(user)


class IsAnalyst(_RoleRequired):
    message = "Customer-level data needs the analyst role."

    def role_allows(self, user: Any) -> bool:
        return roles.user_is_analyst(user)


class IsStaff(_RoleRequired):
    message = "Only staff can do this."

    def role_allows(self, user: Any) -> bool:
        return roles.user_is_staff(user)
