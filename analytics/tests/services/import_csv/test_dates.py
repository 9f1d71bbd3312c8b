"""The date rule, without a database (analytics/services/import_csv/dates.py). The near-miss corpus
through both import paths is in test_columnar.py."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.mappings import DATE_FORMATS
from analytics.services.import_csv.dates import FORMATS, date_read, dates_read, format_describe


@pytest.mark.parametrize(
    ("date_format", "cell", "day"),
    [
        ("dmy", "5/8/2022", dt.date(2022, 8, 5)),
        ("d/m/y", "05/08/22", dt.date(2022, 8, 5)),
        ("mdy", "8/5/2022 14:05", dt.date(2022, 8, 5)),
        ("m/d/y", "12/31/2021 7:45:00", dt.date(2021, 12, 31)),
        ("ymd", "2022-08-05", dt.date(2022, 8, 5)),
        ("y-m-d", "2022-8-5T14:05:09.5", dt.date(2022, 8, 5)),
        ("y-m-d", " 2009-12-01 07:45:00 ", dt.date(2009, 12, 1)),
        ("d.m.y", "5.8.2022", dt.date(2022, 8, 5)),
        ("d-m-y", "5-8-2022", dt.date(2022, 8, 5)),
        ("m.d.y", "8.5.2022", dt.date(2022, 8, 5)),
        ("m-d-y", "8-5-99", dt.date(1999, 8, 5)),
        ("y/m/d", "2022/08/05", dt.date(2022, 8, 5)),
        ("y.m.d", "2022.8.5 23:59", dt.date(2022, 8, 5)),
    ],
)
def test_a_date_in_its_format_is_read(date_format, cell, day):
    assert date_read(cell, date_format).date == day


@pytest.mark.parametrize(
    ("date_format", "cell", "reason"),
    [
        ("dmy", "5.8.2022", "expected day/month/year such as 5/8/2022"),
        ("d.m.y", "5/8/2022", "expected day.month.year such as 5.8.2022"),
        ("mdy", "13/1/2022", "there is no month 13"),
        ("ymd", "22-08-05", "expected ISO year-month-day such as 2022-08-05"),
        ("ymd", "2022-02-29", "there is no 29 February 2022"),
        ("dmy", "0/1/2022", "there is no day 0"),
        ("dmy", "5/8/2022 25:00", "25:00 is not a time of day"),
        ("dmy", "5/8/2022 14:05:61", "14:05:61 is not a time of day"),
        ("dmy", "5/8/1899", "1899-08-05 is outside 1900-2100"),
        ("d/m/y", "5/8/2022T14:05", "expected day/month/year such as 5/8/2022"),
    ],
)
def test_a_near_miss_says_why_it_is_not_a_date(date_format, cell, reason):
    assert date_read(cell, date_format).date is None
    assert date_read(cell, date_format).reason == reason


def test_every_format_the_mapping_accepts_reads_the_example_it_gives():
    assert set(DATE_FORMATS) == set(FORMATS)
    for date_format in set(FORMATS) - {"auto"}:
        example = format_describe(date_format).split(" such as ")[1]
        assert date_read(example, date_format).date == dt.date(2022, 8, 5), date_format


def test_two_digit_years_read_as_1970_to_2069_and_only_after_day_and_month():
    assert [date_read(f"1/1/{year}", "dmy").date for year in ("69", "70", "00", "99")] == [
        dt.date(2069, 1, 1),
        dt.date(1970, 1, 1),
        dt.date(2000, 1, 1),
        dt.date(1999, 1, 1),
    ]
    assert date_read("22-01-01", "ymd").date is None


def test_auto_takes_month_first_when_only_month_first_reads_every_date():
    reading = dates_read(["12/31/2021", "1/2/2022", "2/13/2022"], "auto")

    assert reading.date_format == "m/d/y"
    assert reading.all_read
    assert reading.cells["1/2/2022"].date == dt.date(2022, 1, 2)
    assert reading.warnings == []


def test_auto_takes_day_first_when_only_day_first_reads_every_date():
    reading = dates_read(["31/12/2021", "1/2/2022"], "auto")

    assert (reading.date_format, reading.all_read, reading.warnings) == ("d/m/y", True, [])
    assert reading.cells["1/2/2022"].date == dt.date(2022, 2, 1)


def test_auto_reads_an_ambiguous_file_day_first_and_says_so():
    reading = dates_read(["5/8/2022", "1/1/2022", "12/3/2022 10:00"], "auto")

    assert reading.date_format == "d/m/y"
    assert reading.cells["5/8/2022"].date == dt.date(2022, 8, 5)
    assert reading.warnings == [
        "Dates were read day-first (d/m/y): no date in the file has a day above 12, so '12/3/2022 10:00' "
        "could also be month-first. Read as 12 March 2022; set the mapping's date_format to m/d/y if the "
        "file is month-first."
    ]


def test_auto_needs_no_warning_when_both_readings_give_the_same_days():
    assert dates_read(["1/1/2022", "2/2/2022"], "auto").warnings == []


def test_auto_takes_iso_and_refuses_the_dates_written_otherwise():
    reading = dates_read(["2022-08-05", "2022-08-06 10:00", "7/8/2022"], "auto")

    assert reading.date_format == "y-m-d"
    assert not reading.all_read
    assert reading.reason("7/8/2022") == (
        "not a readable date (this file's dates are ISO year-month-day such as 2022-08-05)"
    )


def test_auto_with_no_readable_date_lists_the_formats_it_tried():
    reading = dates_read(["44778", "today"], "auto")

    assert not reading.all_read
    assert reading.reason("today").startswith("not a readable date (expected one format for the whole file: day/")


def test_a_time_after_the_date_does_not_change_the_day():
    assert date_read("31/12/2022 23:59:59.999999", "dmy").date == dt.date(2022, 12, 31)


def test_empty_cells_are_left_to_the_required_cell_check():
    assert dates_read(["", "  ", None, "5/8/2022"], "dmy").cells.keys() == {"5/8/2022"}
