"""DRF token authentication in one round trip to the database.

DRF's `TokenAuthentication` loads the token and its user through the ORM, and the role permission
then asks for the user's groups: two queries, and compiling them costs more CPU than the rest of a
cached answer. This class reads the token, its user and the user's group names with one SQL
statement (built once from the models' metadata), then hands the names to `retail_platform.roles`
so the permission check asks nothing more.

Nothing is cached between requests: a deleted token, a deactivated user or a changed group is seen
by the very next request, as with DRF's class. The answers (401 messages, `request.user`,
`request.auth`) are the same as DRF's.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Field, Model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from retail_platform import roles


def _columns(model: type[Model], alias: str) -> tuple[list[str], list[str]]:
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    return [field.attname for field in fields], [f"{alias}.{quote(field.column)}" for field in fields]


@cache
def _statement() -> tuple[str, list[str], list[str]]:
    """The SQL (token columns, user columns, group names) and the attribute names of the columns."""
    user_model = get_user_model()
    groups = user_model._meta.get_field("groups")
    through = groups.remote_field.through._meta  # type: ignore[union-attr]
    group = groups.related_model._meta  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    token_names, token_columns = _columns(Token, "t")
    user_names, user_columns = _columns(user_model, "u")
    user_fk = quote(groups.m2m_column_name())
    group_fk = quote(groups.m2m_reverse_name())
    group_name = group.get_field("name")
    assert isinstance(group_name, Field)
    sql = (
        f"SELECT {', '.join(token_columns + user_columns)}, "
        f"ARRAY(SELECT g.{quote(group_name.column)} FROM {quote(through.db_table)} ug "
        f"JOIN {quote(group.db_table)} g ON g.{quote(group.pk.column)} = ug.{group_fk} "
        f"WHERE ug.{user_fk} = u.{quote(user_model._meta.pk.column)}) "
        f"FROM {quote(Token._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u "
        f"ON u.{quote(user_model._meta.pk.column)} = t.{quote(Token._meta.get_field('user').column)} "
        f"WHERE t.{quote(Token._meta.get_field('key').column)} = %s"
    )
    return sql, token_names, user_names


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, with the token, user and groups read in one query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        sql, token_names, user_names = _statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token_values = row[: len(token_names)]
        user_values = row[len(token_names) : len(token_names) + len(user_names)]
        user = get_user_model().from_db(connection.alias, user_names, user_values)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        roles.group_names_known(user, row[-1])
        token = Token.from_db(connection.alias, token_names, token_values)
        token.user = user
        return user, token
