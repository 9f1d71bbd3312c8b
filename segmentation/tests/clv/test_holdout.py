from datetime import date

import numpy as np
import pytest

from segmentation.clv import bgnbd, pareto_nbd
from segmentation.clv.calibration import Calibration, PurchaseDays, calibrate
from segmentation.clv.holdout import HoldoutReport, holdout_report
from segmentation.clv.model import TransactionFit


@pytest.fixture(scope="module")
def fits(cdnow_calibration: Calibration) -> list[TransactionFit]:
    return [bgnbd.fit(cdnow_calibration.triples), pareto_nbd.fit(cdnow_calibration.triples)]


@pytest.fixture(scope="module")
def report(cdnow: PurchaseDays, cdnow_calibration: Calibration, fits: list[TransactionFit]) -> HoldoutReport:
    return holdout_report(cdnow, cdnow_calibration, fits)


def test_cdnow_yardstick(report: HoldoutReport) -> None:
    assert report.actual_repeat_purchases == 1882
    assert report.check("bgnbd").predicted_repeat_purchases == 1653.4
    assert (report.calibration_first_day, report.calibration_last_day) == (date(1997, 1, 1), date(1997, 9, 30))
    assert (report.holdout_first_day, report.holdout_last_day) == (date(1997, 10, 1), date(1998, 6, 30))
    assert report.holdout_weeks == 39.0
    assert report.customers == 2357


def test_the_chosen_model_has_the_lower_mean_absolute_error(
    report: HoldoutReport, cdnow_calibration: Calibration, fits: list[TransactionFit]
) -> None:
    assert cdnow_calibration.holdout_x is not None
    errors = {}
    for fit in fits:
        predicted = fit.model.expected_purchases(np.array([39.0]), cdnow_calibration.triples)[0]
        per_customer = predicted[cdnow_calibration.triples.of_customer]
        errors[fit.model.name] = float(np.mean(np.abs(per_customer - cdnow_calibration.holdout_x)))
        assert report.check(fit.model.name).mean_absolute_error == round(errors[fit.model.name], 4)
    assert report.chosen == min(errors, key=errors.__getitem__) == "pareto_nbd"


def test_bars_by_calibration_repeat_purchases_add_up(report: HoldoutReport, cdnow_calibration: Calibration) -> None:
    for check in report.checks:
        buckets = check.by_calibration_repeat_purchases
        assert [bucket.calibration_repeat_purchases for bucket in buckets] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
        assert sum(bucket.customers for bucket in buckets) == 2357
        assert buckets[0].customers == int((cdnow_calibration.x == 0).sum()) == 1411
        assert sum(bucket.actual_mean * bucket.customers for bucket in buckets) == pytest.approx(1882, abs=1)
        assert sum(bucket.predicted_mean * bucket.customers for bucket in buckets) == pytest.approx(
            check.predicted_repeat_purchases, abs=1
        )


def test_tracking_counts_repeat_purchases_week_by_week(
    report: HoldoutReport, cdnow: PurchaseDays, cdnow_calibration: Calibration, fits: list[TransactionFit]
) -> None:
    tracking = report.check("bgnbd").tracking
    assert len(tracking) == 78
    assert (tracking[38].last_day, tracking[38].in_holdout) == (date(1997, 9, 30), False)
    assert (tracking[39].last_day, tracking[39].in_holdout) == (date(1997, 10, 7), True)
    assert tracking[-1].last_day == date(1998, 6, 30)
    assert tracking[38].actual == int(cdnow_calibration.x.sum())
    assert tracking[-1].actual == int(cdnow_calibration.x.sum()) + 1882
    actual = [week.actual for week in tracking]
    assert actual == sorted(actual)
    # Expected by the last day: each customer's E[X(t)] at their own age, summed.
    age = (cdnow_calibration.holdout_end - 1 - cdnow_calibration.first_day) / 7
    assert tracking[-1].predicted == pytest.approx(float(fits[0].model.unconditional_purchases(age).sum()), abs=0.06)


def test_tracking_on_hand_built_customers() -> None:
    # Customer 0: first day 0, repeats on days 3, 9 and 15; customer 1: first day 8, repeat day 16 (holdout).
    purchases = PurchaseDays.from_arrays([0, 4, 6], [0, 3, 9, 15, 8, 16], np.ones(6))
    calibration = calibrate(purchases, calibration_end=14, holdout_end=21)
    fit = bgnbd.fit(calibration.triples, start=np.array([1.0, 1.0, 1.0, 1.0]))
    tracking = holdout_report(purchases, calibration, [fit]).checks[0].tracking
    assert [week.actual for week in tracking] == [1, 2, 4]
    assert [week.in_holdout for week in tracking] == [False, False, True]
