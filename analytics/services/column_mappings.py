"""Saved column mappings (the presets staff make for their own files' layouts)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from analytics.mappings import PRESETS, MappingError, mapping_parse
from analytics.models import ColumnMapping
from retail_platform.errors import ApplicationError


@transaction.atomic
def column_mapping_save(*, name: str, mapping: dict[str, Any], description: str = "") -> ColumnMapping:
    """Save a new named mapping. Raises ApplicationError when the mapping is not valid, or the name is
    a shipped preset's or already taken (a saved mapping is changed in the admin)."""
    try:
        mapping_parse(mapping)
    except MappingError as error:
        raise ApplicationError(f"The mapping is not valid: {error}", {"mapping": str(error)}) from error
    if name in PRESETS or ColumnMapping.objects.filter(name=name).exists():
        raise ApplicationError(
            f"There is already a mapping called '{name}': choose another name (saved mappings are changed "
            "in the admin, under Column mappings).",
            {"name": name},
            status=409,
        )
    return ColumnMapping.objects.create(name=name, mapping=mapping, description=description)
