import pytest

from analytics.import_progress import import_progress


@pytest.mark.parametrize(
    ("status", "stage", "stage_percent", "percent", "step"),
    [
        ("queued", "", 0, 0, "Waiting for a worker"),
        ("running", "read", 0, 0, "Step 1 of 4: reading the file"),
        ("running", "read", 50, 12, "Step 1 of 4: reading the file"),
        ("running", "validate", 0, 25, "Step 2 of 4: checking the rows"),
        ("running", "load", 50, 62, "Step 3 of 4: loading the lines"),
        ("running", "load", 100, 90, "Step 3 of 4: loading the lines"),
        # The last stage reports no percent: the bar stands at its start, not at 0 %.
        ("running", "aggregates", 0, 90, "Step 4 of 4: updating the totals"),
        ("running", "", 0, 0, "Starting"),
        ("succeeded", "", 0, 100, ""),
        ("failed", "load", 30, 51, ""),  # where it stopped
    ],
)
def test_the_bar_covers_the_whole_import_and_the_step_says_which_stage(
    status: str, stage: str, stage_percent: int, percent: int, step: str
) -> None:
    progress = import_progress(status=status, stage=stage, stage_percent=stage_percent)
    assert (progress.percent, progress.step) == (percent, step)


def test_the_bar_never_goes_back_from_one_stage_to_the_next() -> None:
    seen = [
        import_progress(status="running", stage=stage, stage_percent=percent).percent
        for stage in ("read", "validate", "load", "aggregates")
        for percent in (0, 10, 50, 90, 100)
    ]
    assert seen == sorted(seen)
    assert max(seen) < 100  # 100 % only once the batch succeeded
