"""DRF permission classes, one per role (see retail_platform.roles). `IsViewer` is the default."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from retail_platform import roles


class IsViewer(BasePermission):
    message = "You need the viewer role (or higher) to use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.user_is_viewer(request.user)


class IsAnalyst(BasePermission):
    message = "Customer-level data needs the analyst role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.user_is_analyst(request.user)


class IsStaff(BasePermission):
    message = "Only staff can do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.user_is_staff(request.user)
