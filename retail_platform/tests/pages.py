"""Checks shared by the page tests: the content security policy allows no inline script."""

from __future__ import annotations

import re

from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client

_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_EVENT_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def assert_no_inline_script(html: str) -> None:
    """Every <script> either loads a file of ours or holds JSON data; no on* handler attributes."""
    for attributes, body in _SCRIPT_TAG.findall(html):
        if "src=" in attributes:
            assert "//" not in attributes.split("src=", 1)[1].split()[0], f"script from another origin: {attributes}"
            assert not body.strip()
        else:
            assert 'type="application/json"' in attributes, f"inline script: {attributes} {body[:80]}"
    assert not _EVENT_ATTRIBUTE.search(html), "inline event handler attribute"


def signed_in_client(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client
