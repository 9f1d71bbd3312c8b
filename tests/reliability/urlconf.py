"""The URLconf as a list of routes, each with the role its view declares and a concrete address.

Shared by the reliability tests that visit every page or endpoint (access, page security).
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.views import APIView

from retail_platform import pages
from retail_platform.api import permissions

# Public on purpose: signing in and out, and the API's JSON 404 for any address no route takes.
# Django's admin enforces its own staff login.
PUBLIC_ROUTES = {"login", "logout", "api:not-found"}
# Pages served under /api/: they answer like pages (a signed-out visitor is sent to sign in).
API_PAGES = {"api:docs"}
SKIPPED_NAMESPACES = ("admin",)

ANONYMOUS, VIEWER, ANALYST, STAFF = 0, 1, 2, 3
ROLE_NAMES = {ANONYMOUS: "anonymous", VIEWER: "viewer", ANALYST: "analyst", STAFF: "staff"}


@dataclass(frozen=True)
class Route:
    path_template: str
    name: str
    pattern: URLPattern
    params: tuple[tuple[str, str], ...]  # (name, converter or regex) for each path parameter

    @property
    def is_api(self) -> bool:
        return self.path_template.startswith("/api/") and self.name not in API_PAGES

    @property
    def view_class(self) -> Any:
        callback = self.pattern.callback
        return getattr(callback, "view_class", None) or getattr(callback, "cls", None)

    def __str__(self) -> str:
        return self.name or self.path_template


_GROUP = re.compile(r"\(\?P<(\w+)>")


def _regex_to_template(regex: str) -> tuple[str, list[tuple[str, str]]]:
    """`^stores/(?P<pk>[0-9]+)/?$` -> `stores/{pk}`: the regexes our routes use are literal text,
    named groups and an optional trailing slash."""
    regex = regex.removeprefix("^").removesuffix("$").removesuffix("/?")
    params: list[tuple[str, str]] = []
    out, i = [], 0
    while i < len(regex):
        match = _GROUP.match(regex, i)
        if match:
            depth, j = 1, match.end()
            while depth:
                depth += {"(": 1, ")": -1}.get(regex[j], 0) if regex[j - 1] != "\\" else 0
                j += 1
            params.append((match.group(1), regex[match.end() : j - 1]))
            out.append("{" + match.group(1) + "}")
            i = j
        elif regex[i] == "\\":
            out.append(regex[i + 1])
            i += 2
        else:
            if regex[i] in "()[]?*+|{}":
                raise ValueError(f"cannot turn the route regex {regex!r} into an address; extend the walker")
            out.append(regex[i])
            i += 1
    return "".join(out), params


def _route_to_template(route: str, converters: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    params: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        params.append((name, type(converters[name]).__name__))
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", replace, route), params


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        pattern = entry.pattern
        if isinstance(pattern, RegexPattern):
            text, params = _regex_to_template(pattern._regex)
        elif isinstance(pattern, RoutePattern):
            text, params = _route_to_template(pattern._route, pattern.converters)
        else:
            raise TypeError(f"unknown URL pattern type {type(pattern)}")
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            if inner.startswith(SKIPPED_NAMESPACES):
                continue
            for route in _walk(entry.url_patterns, prefix + text, inner):
                yield Route(route.path_template, route.name, route.pattern, tuple(params) + route.params)
        else:
            name = namespace + entry.name if entry.name else ""
            yield Route("/" + prefix + text, name, entry, tuple(params))


ROUTES = list(_walk(get_resolver().url_patterns))
PROTECTED_ROUTES = [route for route in ROUTES if route.name not in PUBLIC_ROUTES]


def methods(route: Route) -> list[str]:
    view_class = route.view_class
    if view_class is None:
        return ["GET"]
    return [m.upper() for m in view_class.http_method_names if hasattr(view_class, m) and m not in ("head", "options")]


def required_role(route: Route, method: str) -> int | None:
    """The lowest role the view lets in for this method, or None when it declares none."""
    view_class = route.view_class
    if view_class is None:
        return None
    if issubclass(view_class, APIView):
        view = view_class(**getattr(route.pattern.callback, "initkwargs", {}))
        view.request = SimpleNamespace(method=method)
        view.kwargs, view.args, view.format_kwarg = {}, (), None
        checks = view.get_permissions()
        levels = [
            level
            for check in checks
            for cls, level in (
                (permissions.IsStaff, STAFF),
                (permissions.IsAnalyst, ANALYST),
                (permissions.IsViewer, VIEWER),
            )
            if isinstance(check, cls)
        ]
        return max(levels) if levels else None
    for mixin, level in (
        (pages.StaffRequiredMixin, STAFF),
        (pages.AnalystRequiredMixin, ANALYST),
        (pages.ViewerRequiredMixin, VIEWER),
    ):
        if issubclass(view_class, mixin):
            return level
    return None


def param_value(name: str, kind: str, data: dict[str, Any]) -> str:
    numeric = kind in ("IntConverter",) or "\\d" in kind or "0-9" in kind
    lowered = name.lower()
    for key in ("customer", "store", "batch"):
        if key in lowered or (key == "batch" and "import" in lowered):
            obj = data[key]
            return str(obj.pk) if numeric or not hasattr(obj, "external_id") else obj.external_id
    if kind == "UUIDConverter":
        return str(uuid.uuid4())
    if numeric or lowered in ("pk", "id") or lowered.endswith("_id"):
        return str(data["batch"].pk)
    return "sample"


@functools.cache
def _api_spec() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# Values for required query parameters that must name something real to get past validation.
def _segment_name(data: dict[str, Any]) -> str:
    from segmentation.selectors import segment_names_list

    return segment_names_list().kmeans[0]


QUERY_SAMPLES: dict[str, Callable[[dict[str, Any]], str]] = {"segment": _segment_name}


def required_query(route: Route, method: str, data: dict[str, Any]) -> dict[str, Any]:
    """The API's required query parameters for this operation, filled in (from the OpenAPI schema)."""
    if not route.is_api:
        return {}
    paths = _api_spec()["paths"]
    item = paths.get(route.path_template) or paths.get(route.path_template.rstrip("/") + "/") or {}
    query: dict[str, Any] = {}
    for parameter in item.get(method.lower(), {}).get("parameters", []):
        if parameter["in"] != "query" or not parameter.get("required"):
            continue
        name, schema = parameter["name"], parameter.get("schema", {})
        if name in QUERY_SAMPLES:
            value: Any = QUERY_SAMPLES[name](data)
        elif schema.get("enum"):
            value = schema["enum"][0]
        elif schema.get("type") == "integer":
            value = 1
        else:
            value = "sample"
        query[name] = [value] if schema.get("type") == "array" else value
    return query


def address_of(route: Route, data: dict[str, Any], method: str = "GET") -> str:
    values = {name: param_value(name, kind, data) for name, kind in route.params}
    address = route.path_template.format(**values)
    match = resolve(address)
    assert match.func == route.pattern.callback, f"{address} resolves to another view than {route}"
    query = required_query(route, method, data)
    return f"{address}?{urlencode(query, doseq=True)}" if query else address
