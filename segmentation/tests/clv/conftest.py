"""The CDNOW 1/10 sample as purchase days, the yardstick of the customer-value models (pure: no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from segmentation.clv.calibration import Calibration, PurchaseDays, calibrate, day_number

CDNOW = Path(__file__).resolve().parents[3] / "tests" / "data" / "cdnow_sample.txt"
CALIBRATION_END = day_number(date(1997, 10, 1))  # calibration 1997-01-01 .. 1997-09-30
HOLDOUT_END = day_number(date(1998, 7, 1))  # holdout 1997-10-01 .. 1998-06-30


def load_cdnow() -> PurchaseDays:
    """Columns: master id, id (1-2357), yyyymmdd, CDs, dollars. Same-day purchases merged into one."""
    table = np.loadtxt(CDNOW, usecols=(1, 2, 4))
    customer = table[:, 0].astype(np.int64) - 1
    ymd = table[:, 1].astype(np.int64)
    days = np.array([day_number(date(v // 10_000, v // 100 % 100, v % 100)) for v in ymd], dtype=np.int64)
    order = np.lexsort((days, customer))
    customer, days, dollars = customer[order], days[order], table[order, 2]
    new_day = np.ones(len(days), dtype=bool)
    new_day[1:] = (days[1:] != days[:-1]) | (customer[1:] != customer[:-1])
    values = np.add.reduceat(dollars, np.flatnonzero(new_day))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(customer[new_day], minlength=customer.max() + 1))])
    return PurchaseDays.from_arrays(offsets, days[new_day], values)


@pytest.fixture(scope="session")
def cdnow() -> PurchaseDays:
    return load_cdnow()


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow: PurchaseDays) -> Calibration:
    return calibrate(cdnow, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
