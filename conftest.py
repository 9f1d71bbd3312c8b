"""Shared fixtures: users in each role and API clients signed in as them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from retail_platform.roles import ANALYST, VIEWER


def _user(username: str, *, group: str | None = None, staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def viewer(db: None) -> User:
    return _user("viewer1", group=VIEWER)


@pytest.fixture
def analyst(db: None) -> User:
    return _user("analyst1", group=ANALYST)


@pytest.fixture
def staff(db: None) -> User:
    return _user("staff1", staff=True)


def _client(user: User | None) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    if user is not None:
        client.force_authenticate(user=user)
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return _client(None)


@pytest.fixture
def viewer_client(viewer: User) -> APIClient:
    return _client(viewer)


@pytest.fixture
def analyst_client(analyst: User) -> APIClient:
    return _client(analyst)


@pytest.fixture
def staff_client(staff: User) -> APIClient:
    return _client(staff)
