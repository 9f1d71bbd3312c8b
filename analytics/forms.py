"""Forms shared by the pages and the admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from analytics import import_inputs
from analytics.mapping_editor import FIELD_LABELS, mapping_build, missing_required
from analytics.mappings import MappingError, mapping_parse
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


# --- The column-mapping editor (analytics/views/mappings.py) --------------------------------------


class MappingSourceForm(forms.Form):
    """The file a mapping is made for: one uploaded now, or one imported before."""

    file = forms.FileField(
        label="A CSV file", required=False, help_text="Its header and first rows are read; nothing is imported yet."
    )
    batch = forms.TypedChoiceField(label="Or a file imported before", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, batches: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        batch = self.fields["batch"]
        assert isinstance(batch, forms.TypedChoiceField)
        batch.choices = [("", "—"), *batches]

    def clean_file(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            try:
                import_inputs.upload_size_check(upload.size)
            except ApplicationError as error:
                raise application_form_error(error) from error
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and (data.get("file") is None) == (data.get("batch") is None):
            raise forms.ValidationError("Upload a file or pick one imported before (one of the two).")
        return data


OPTION_CHOICES: dict[str, list[tuple[str, str]]] = {
    "date_format": [
        ("auto", "auto: day-first (5/8/2022 is 5 August) or ISO (2022-08-05)"),
        ("dmy", "day / month / year"),
        ("mdy", "month / day / year"),
        ("ymd", "year - month - day"),
    ],
    "decimal_separator": [(".", "a point: 1234.50"), (",", "a comma: 1.234,50")],
    "price_is": [("line_amount", "the line's amount (all its units)"), ("unit_price", "the price of one unit")],
    "discount_is": [("amount", "money off the line"), ("fraction", "a share of the line, 0 to 1")],
    "cost_is": [("line_amount", "the line's cost (all its units)"), ("unit_price", "the cost of one unit")],
}


class MappingEditorForm(forms.Form):
    """A field per column of the file, how to read its values, and a name to save the mapping under
    (the name is checked by the view, only when saving)."""

    name = forms.SlugField(
        label="Name",
        max_length=100,
        required=False,
        help_text="Letters, digits, - and _: chosen on the Imports page, or given to import_transactions --mapping.",
    )
    description = forms.CharField(label="Description", max_length=500, required=False)
    date_format = forms.ChoiceField(label="Dates are written", choices=OPTION_CHOICES["date_format"])
    decimal_separator = forms.ChoiceField(label="Decimals are marked by", choices=OPTION_CHOICES["decimal_separator"])
    price_is = forms.ChoiceField(label="The price is", choices=OPTION_CHOICES["price_is"])
    discount_is = forms.ChoiceField(label="The discount is", choices=OPTION_CHOICES["discount_is"])
    cost_is = forms.ChoiceField(label="The cost is", choices=OPTION_CHOICES["cost_is"])
    return_invoice_prefix = forms.CharField(
        label="Invoices of returns start with", max_length=10, required=False, help_text="Blank: none."
    )
    default_store = forms.CharField(label="Store when the file has none", max_length=200, required=False)
    default_category = forms.CharField(label="Category when the file has none", max_length=200, required=False)
    default_payment_method = forms.CharField(
        label="Payment method when the file has none", max_length=100, required=False
    )
    skip_invalid = forms.BooleanField(
        label="Skip invalid rows", required=False, help_text="When importing: load the valid rows, report the others."
    )

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header = header
        for position, column in enumerate(header):
            self.fields[f"column_{position}"] = forms.ChoiceField(
                label=column or f"Column {position + 1}",
                required=False,
                choices=[("", "— not imported —"), *FIELD_LABELS.items()],
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"column_{position}"] for position in range(len(self.header))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        fields = [data.get(f"column_{position}", "") for position in range(len(self.header))]
        repeated = sorted({name for name in fields if name and fields.count(name) > 1})
        if repeated:
            raise forms.ValidationError(
                "Each field can come from one column only: "
                + ", ".join(f"{FIELD_LABELS[name].lower()} is chosen for several" for name in repeated)
                + "."
            )
        missing = missing_required(fields, data["price_is"])
        if missing:
            raise forms.ValidationError(
                "Choose the column of each required field: "
                + ", ".join(FIELD_LABELS[name].lower() for name in missing)
                + " (a unit price needs the quantity too)."
            )
        mapping = mapping_build(
            header=self.header,
            fields=fields,
            options={name: data[name] for name in (*OPTION_CHOICES, "return_invoice_prefix")},
            defaults={
                "store": data["default_store"],
                "category": data["default_category"],
                "payment_method": data["default_payment_method"],
            },
        )
        try:
            data["spec"] = mapping_parse(mapping)
        except MappingError as error:
            raise forms.ValidationError(str(error)) from error
        data["mapping"] = mapping
        return data
