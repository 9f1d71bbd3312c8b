"""Segmentation writes, one module per subject, imported by their own names: the refit (a new run,
`refit.py`), its customer assignments (`assignments.py`) and the summaries saved with it
(`summaries.py`), making a run active and scoring new customers (`runs.py`).

Nothing is gathered here: the refit brings SciPy and scikit-learn, and a caller that only makes a
run active (the admin, loaded by every process that sets Django up) should not load them."""
