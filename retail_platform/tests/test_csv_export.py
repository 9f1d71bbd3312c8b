import csv
import io

import pytest

from retail_platform.csv_export import csv_lines, spreadsheet_safe


@pytest.mark.parametrize("dangerous", ["=SUM(A1)", "+1", "-1+2", "@cmd", "\tx", "\rx", "\0x"])
def test_text_that_a_spreadsheet_would_run_is_quoted(dangerous: str) -> None:
    assert spreadsheet_safe(dangerous) == "'" + dangerous


@pytest.mark.parametrize("value", ["Champions", "", 12, -3, 4.5])
def test_plain_text_and_numbers_are_left_alone(value: object) -> None:
    assert spreadsheet_safe(value) == value


def test_csv_lines_escape_every_cell_and_keep_the_header() -> None:
    text = "".join(csv_lines(["id", "name"], [["C1", '=HYPERLINK("x")'], [-5, "ok"]]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["id", "name"], ["C1", '\'=HYPERLINK("x")'], ["-5", "ok"]]


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


def test_objects_are_checked_by_the_text_they_are_written_as() -> None:
    assert spreadsheet_safe(_Named("=cmd|' /C calc'!A0")) == "'=cmd|' /C calc'!A0"
    assert spreadsheet_safe(_Named("Kanyon")) == "Kanyon"


def test_numbers_dates_and_empty_cells_are_written_as_they_are() -> None:
    import datetime
    from decimal import Decimal

    for value in (Decimal("-12.50"), datetime.date(2023, 1, 5), None, True):
        assert spreadsheet_safe(value) is value


def test_header_cells_are_escaped_too() -> None:
    text = "".join(csv_lines(["=evil", "ok"], []))
    assert next(csv.reader(io.StringIO(text))) == ["'=evil", "ok"]


def test_download_file_name_cannot_break_the_header() -> None:
    from retail_platform.csv_export import csv_streaming_response

    response = csv_streaming_response('a"b.csv', ["x"], [])
    assert response["Content-Disposition"] == 'attachment; filename="a\\"b.csv"'
