"""Customer-value benchmark: the pure part of a refit's customer-value fit on generated data, per stage.

    .venv/bin/python bench/clv_bench.py [--customers 120000] [--repeat 3] [--seed 1]

Customers are drawn from a BG/NBD with Gamma-Gamma spend (segmentation.clv.simulate; 120,000 customers
born over three years make ~900,000 purchase days). Each repeat times, in one process (libraries already
loaded, as in a worker's refit after its first): the calibration summaries at the holdout split, the
BG/NBD and Pareto/NBD fits on the calibration period, the Gamma-Gamma fit, the holdout report, the refit
of the chosen model and of Gamma-Gamma on all data, the per-customer predictions, and the per-segment
intervals (8 segments). It prints the wall-clock seconds of each stage of the fastest repeat, the CPU
seconds of the process over the same run (the machine is shared: wall clock above CPU time is time spent
waiting for a core), and the total. No
database: the query that reads the per-customer summaries is the read model's, not timed here.
Target (issue 14): well under 1 s at 120,000 customers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402 (after the sys.path line)

from segmentation.clv import bgnbd, gamma_gamma, pareto_nbd  # noqa: E402
from segmentation.clv.calibration import (  # noqa: E402
    PurchaseDays,
    calibrate,
    calibration_triples,
    check_describable,
    default_calibration_end,
    repeat_spend,
)
from segmentation.clv.holdout import holdout_report  # noqa: E402
from segmentation.clv.simulate import bgnbd_customers  # noqa: E402
from segmentation.clv.value import customer_values, segment_values  # noqa: E402

FIRST_DAY = 7_671  # 2021-01-01
END = FIRST_DAY + 3 * 365


def run_once(purchases: PurchaseDays, segments: np.ndarray) -> dict[str, tuple[float, float]]:
    """Seconds (wall clock, CPU) per stage."""
    stages: dict[str, tuple[float, float]] = {}

    def lap(name: str, mark: tuple[float, float]) -> tuple[float, float]:
        now = (time.perf_counter(), time.process_time())
        stages[name] = (now[0] - mark[0], now[1] - mark[1])
        return now

    mark = (time.perf_counter(), time.process_time())
    calibration_end = default_calibration_end(purchases, end=END)
    calibration = calibrate(purchases, calibration_end=calibration_end, holdout_end=END)
    check_describable(calibration, purchases)
    triples = calibration_triples(calibration)
    mark = lap("calibration summaries", mark)
    bg = bgnbd.fit(triples)
    mark = lap("BG/NBD fit (calibration)", mark)
    r, alpha = bg.model.parameters[:2]
    pnbd = pareto_nbd.fit(triples, start=np.array([r, alpha, 1.0, alpha]))
    mark = lap("Pareto/NBD fit (calibration)", mark)
    gamma_gamma.fit(repeat_spend(purchases, calibration))
    mark = lap("Gamma-Gamma fit (calibration)", mark)
    report = holdout_report(purchases, calibration, [bg, pnbd])
    mark = lap("holdout report", mark)
    everything = calibrate(purchases, calibration_end=END)
    chosen = bg if report.chosen == "bgnbd" else pnbd
    refit = bgnbd.fit if report.chosen == "bgnbd" else pareto_nbd.fit
    transactions = refit(calibration_triples(everything), start=chosen.model.parameters)
    spend = gamma_gamma.fit(repeat_spend(purchases, everything))
    mark = lap(f"refit on all data ({report.chosen} + Gamma-Gamma)", mark)
    values = customer_values(
        purchases, as_of=END, transactions=transactions, spend=spend, margin=0.4, calibration=everything
    )
    mark = lap("per-customer predictions", mark)
    segment_values(values, segments[values.customer])
    lap("per-segment intervals", mark)
    print(f"  ({len(triples):,} distinct (x, t_x, T) in the calibration; chosen: {report.chosen})")
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    purchases = bgnbd_customers(
        arguments.customers, r=0.9, alpha=4.0, a=0.7, b=3.0, first_days=(FIRST_DAY, END), end=END, seed=arguments.seed
    )
    segments = np.random.default_rng(arguments.seed).choice(
        np.array([f"segment {number}" for number in range(8)], dtype=object), purchases.customers
    )
    print(f"{purchases.customers:,} customers, {len(purchases.days):,} purchase days")
    runs = [run_once(purchases, segments) for _ in range(arguments.repeat)]
    best = min(runs, key=lambda stages: sum(wall for wall, _ in stages.values()))
    print(f"fastest of {len(runs)} runs, seconds (wall clock / CPU):")
    for name, (wall, cpu) in best.items():
        print(f"  {name}: {wall:.3f} / {cpu:.3f}")
    walls = [sum(wall for wall, _ in stages.values()) for stages in runs]
    cpus = [sum(cpu for _, cpu in stages.values()) for stages in runs]
    print(
        f"total: {min(walls):.3f} s wall clock, {min(cpus):.3f} s CPU (all runs: "
        + ", ".join(f"{wall:.3f}/{cpu:.3f}" for wall, cpu in zip(walls, cpus, strict=True))
        + ")"
    )


if __name__ == "__main__":
    main()
