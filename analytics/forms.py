"""Forms shared by the pages and the admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from analytics import import_inputs
from retail_platform.errors import ApplicationError


def application_form_error(error: ApplicationError) -> forms.ValidationError:
    return forms.ValidationError(error.message, code="too_large" if error.status == 413 else "invalid")


class ImportUploadForm(forms.Form):
    """A transactions file for the import pipeline (the Imports page)."""

    file = forms.FileField(label="Transaction file (CSV)", help_text="A CSV file of transaction lines.")
    mapping_name = forms.ChoiceField(
        label="Column mapping",
        help_text="How the file's columns map to ours: a shipped preset or a mapping saved in the admin.",
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid rows",
        help_text="Import the valid rows and report the rest, instead of rejecting the whole file.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mapping_name = self.fields["mapping_name"]
        assert isinstance(mapping_name, forms.ChoiceField)
        mapping_name.choices = import_inputs.mapping_choices()
        mapping_name.initial = "mall"

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        try:
            import_inputs.upload_size_check(upload.size)
        except ApplicationError as error:
            raise application_form_error(error) from error
        return upload


class ImportUploadAdminForm(ImportUploadForm):
    """The admin's upload form: the page's, plus a JSON mapping for this file only."""

    mapping_json = forms.CharField(
        label="JSON mapping",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "spellcheck": "false"}),
        help_text="Optional: a column mapping for this file only, in the format described in the README.",
    )
    field_order = ("file", "mapping_name", "mapping_json", "skip_invalid")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "mapping_name"
        ].help_text = "A shipped preset or a saved column mapping; a JSON mapping below overrides it."

    def clean_mapping_json(self) -> dict[str, Any] | None:
        text = self.cleaned_data["mapping_json"].strip()
        try:
            return import_inputs.mapping_json_parse(text) if text else None
        except ApplicationError as error:
            raise application_form_error(error) from error
