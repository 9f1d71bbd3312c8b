"""Access rules for server-rendered pages, one mixin per role (see retail_platform.roles)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import HttpRequest

from retail_platform import roles


class ViewerRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Signed in with the viewer role or higher; anonymous people are sent to the login page."""

    request: HttpRequest  # set by the view it is mixed into

    def test_func(self) -> bool:
        return roles.user_is_viewer(self.request.user)


class AnalystRequiredMixin(ViewerRequiredMixin):
    def test_func(self) -> bool:
        return roles.user_is_analyst(self.request.user)


class StaffRequiredMixin(ViewerRequiredMixin):
    def test_func(self) -> bool:
        return roles.user_is_staff(self.request.user)
