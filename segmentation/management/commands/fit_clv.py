"""`python manage.py fit_clv [--calibration-end DATE] [--holdout-end DATE] [--json]`: fit the customer-value
models on the current data, check them on the holdout and print the result; nothing is saved (every refit
saves its own fit with its run). Exits non-zero when the data cannot be modelled."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentation.clv import CustomerValueError
from segmentation.services.customer_value import customer_value_check


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Dates are written YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Fit BG/NBD, Pareto/NBD and Gamma-Gamma on the purchases before --calibration-end, check them on the "
        "holdout up to --holdout-end (both exclusive), refit the better one on all of it and print the figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--calibration-end",
            type=_date,
            dest="calibration_end",
            help="First day of the holdout (default: the last quarter of the period, at least 90 days, is held out).",
        )
        parser.add_argument(
            "--holdout-end",
            type=_date,
            dest="holdout_end",
            help="Day after the holdout (default: the day after the last transaction).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fit = customer_value_check(calibration_end=options["calibration_end"], holdout_end=options["holdout_end"])
        except (CustomerValueError, ValueError) as error:
            raise CommandError(str(error)) from error
        report = fit.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        holdout = report["holdout"]
        lines = [
            f"Calibration {holdout['calibration'][0]} to {holdout['calibration'][1]}, "
            f"holdout {holdout['holdout'][0]} to {holdout['holdout'][1]} ({holdout['customers']:,} customers).",
            "BG/NBD: "
            + ", ".join(f"{name} {report['bgnbd'][name]}" for name in ("r", "alpha", "a", "b", "log_likelihood")),
            "Pareto/NBD: "
            + ", ".join(
                f"{name} {report['pareto_nbd'][name]}" for name in ("r", "alpha", "s", "beta", "log_likelihood")
            ),
            "Gamma-Gamma: "
            + ", ".join(f"{name} {report['gamma_gamma'][name]}" for name in ("p", "q", "gamma", "customers")),
            f"Holdout: {holdout['actual_repeat_purchases']:,} repeat purchases, predicted "
            f"{holdout['predicted_repeat_purchases']:,} by {report['chosen']} (chosen: mean absolute error per "
            f"customer {holdout['mean_absolute_error']}).",
        ]
        self.stdout.write("\n".join(lines))
