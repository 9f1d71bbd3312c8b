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
    text = "".join(csv_lines(["id", "name"], [["C1", "=HYPERLINK(\"x\")"], [-5, "ok"]]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["id", "name"], ["C1", "'=HYPERLINK(\"x\")"], ["-5", "ok"]]
