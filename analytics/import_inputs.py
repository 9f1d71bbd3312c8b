"""Input checks shared by the ways in (admin form, API): upload size and the column mapping given.

They only parse and check what a person typed; the import itself is `import_batch_create`.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from analytics.models import ColumnMapping
from retail_platform.errors import ApplicationError


def upload_too_large_message(size: int | None = None) -> str:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    got = f" ({filesizeformat(size)})" if size is not None else ""
    return f"The file is too large{got}: the limit is {filesizeformat(limit)} (IMPORT_MAX_UPLOAD_BYTES)."


def upload_size_check(size: int) -> None:
    if size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ApplicationError(
            upload_too_large_message(size),
            {"size_bytes": size, "limit_bytes": settings.IMPORT_MAX_UPLOAD_BYTES},
            status=413,
        )


def shipped_mapping_names() -> list[str]:
    from analytics import mappings

    return list(mappings.PRESETS)


def mapping_choices() -> list[tuple[str, str]]:
    """The shipped presets, then the saved column mappings, as (name, label)."""
    shipped = shipped_mapping_names()
    saved = [
        name for name in ColumnMapping.objects.order_by("name").values_list("name", flat=True) if name not in shipped
    ]
    return [(name, f"{name} (preset)") for name in shipped] + [(name, f"{name} (saved)") for name in saved]


def mapping_name_check(name: str) -> str:
    if name in shipped_mapping_names() or ColumnMapping.objects.filter(name=name).exists():
        return name
    known = ", ".join(name for name, _ in mapping_choices())
    raise ApplicationError(f"Unknown column mapping '{name}'. Known: {known}.", {"mapping": name})


def mapping_check(value: Any) -> dict[str, Any]:
    """A mapping object as the mappings module accepts it; ApplicationError with the reason otherwise."""
    from analytics import mappings

    try:
        mappings.mapping_parse(value)
    except mappings.MappingError as error:
        raise ApplicationError(str(error), {"mapping": str(error)}) from error
    return value


def mapping_json_parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ApplicationError(
            f"The column mapping is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).",
            {"mapping_json": error.msg},
        ) from error
    return mapping_check(value)
