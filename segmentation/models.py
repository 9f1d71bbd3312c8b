"""Segmentation runs (one per refit, with what made them and how they went) and the customer
assignments each successful run wrote: R, F, M, their scores, the RFM segment and the named cluster."""

from __future__ import annotations

from django.db import models


class SegmentationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING, db_index=True)
    # Why a run failed, or notes on a successful one (e.g. frequency carrying no information).
    message = models.TextField(blank=True)
    # The one run the pages and the API read; a partial unique constraint keeps it to one.
    is_active = models.BooleanField(default=False)
    # How the run was made: requested and candidate k, random_state, sample size, features, silhouette per k.
    parameters = models.JSONField(default=dict, blank=True)
    k = models.PositiveSmallIntegerField(null=True, blank=True)
    silhouette = models.FloatField(null=True, blank=True)
    inertia = models.FloatField(null=True, blank=True)
    customers = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    # Seconds per stage: query, scoring, libraries (the wait for their import), clustering, saving,
    # pruning, summaries, and total.
    timings = models.JSONField(default=dict, blank=True)
    # The latest successful import the run saw (the one that triggered it, when an import did).
    import_batch = models.ForeignKey(
        "analytics.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    as_of = models.DateField(null=True, blank=True)
    # False when every customer bought equally often: the segments then come from R and M.
    frequency_informative = models.BooleanField(null=True, blank=True)
    # RFM score ranges per dimension: {"recency": [{"score", "min", "max", "customers"}], ...}.
    cut_points = models.JSONField(default=dict, blank=True)
    # The definitions (as-of, recency, frequency, monetary), the RFM score map and the naming rule in force.
    definitions = models.JSONField(default=dict, blank=True)
    # One entry per K-Means cluster: number, name, customers and centroid in days, purchases and money.
    clusters = models.JSONField(default=list, blank=True)
    # The fitted scaler + KMeans (joblib), to score new customers without refitting.
    pipeline = models.BinaryField(null=True, blank=True, editable=False)
    # Assignments of old runs are deleted to bound the table; the run's figures stay.
    assignments_pruned = models.BooleanField(default=False)
    # What the pages read instead of the transaction lines, saved once by the refit (see
    # segmentation.services.summaries.segmentation_run_summaries_save); False for a run made before they existed.
    summaries_saved = models.BooleanField(default=False)
    # Net sales of the run's customers per category, K-Means segment and RFM segment, over every line
    # at refit time: [[category, segment, rfm_segment, "net"], ...].
    category_sales = models.JSONField(default=list, blank=True)
    # The R vs M scatter sample (SCATTER_SAMPLE customers, SCATTER_SEED), without customer ids:
    # [[recency_days, frequency, monetary, segment, rfm_segment, cluster], ...].
    scatter_sample = models.JSONField(default=list, blank=True)
    # Customers per K-Means segment x RFM segment x R, F and M score, with the sums of their monetary
    # value, recency and frequency: the segment tables and score grids fold it, never the assignments.
    # [[segment, rfm_segment, r, f, m, customers, "monetary", recency_days, frequency], ...].
    assignment_cube = models.JSONField(default=list, blank=True)
    # Movement from the previous kept run: {"from_run": id, "kmeans": [[from, to, customers]], "rfm": [...]}.
    movement = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="segmentation_one_active_run"
            ),
            models.CheckConstraint(
                condition=~models.Q(is_active=True) | models.Q(status="succeeded"),
                name="segmentation_active_run_succeeded",
            ),
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} ({self.status})"


class CustomerSegment(models.Model):
    """A customer's place in one run. Written in bulk with COPY, never edited.

    The foreign keys have no database constraint: checking two keys per row at commit would double the
    cost of a refit at 100,000+ customers, and the refit itself guarantees them (it writes, inside one
    transaction under the data-write lock, the customers it has just read, for the run it has just
    created). Django still cascades the deletion of a run or a customer."""

    run = models.ForeignKey(
        SegmentationRun, on_delete=models.CASCADE, db_index=False, db_constraint=False, related_name="assignments"
    )
    customer = models.ForeignKey(
        "analytics.Customer", on_delete=models.CASCADE, db_index=False, db_constraint=False, related_name="+"
    )
    recency_days = models.PositiveIntegerField()
    frequency = models.PositiveIntegerField()
    monetary = models.DecimalField(max_digits=16, decimal_places=2)
    r_score = models.PositiveSmallIntegerField()
    f_score = models.PositiveSmallIntegerField()
    m_score = models.PositiveSmallIntegerField()
    rfm_segment = models.CharField(max_length=40)
    # The K-Means cluster, numbered by value (0 = highest), and its business name.
    cluster = models.PositiveSmallIntegerField()
    segment = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="segmentation_one_assignment_per_run"),
        ]
        # No index on the segment columns: a filter scans one run's rows through the unique index, which
        # stays fast at 100,000+ customers, while each extra index slows every refit's COPY.

    def __str__(self) -> str:
        return f"{self.customer_id} in run {self.run_id}: {self.segment} / {self.rfm_segment}"


class SegmentCell(models.Model):
    """The purchase history of the customers of one run in one K-Means segment x RFM segment, saved by
    the refit for the campaign simulator. Any choice of segments is a union of cells, so the simulator
    reads a few rows, never the transaction lines."""

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="cells")
    segment = models.CharField(max_length=60)
    rfm_segment = models.CharField(max_length=40)
    customers = models.PositiveIntegerField()
    # Net value of each purchase (one invoice's purchase lines before the as-of date) above zero, by
    # customer pk then invoice number, as float64 little-endian bytes: numpy reads a 50,000-customer
    # segment's values in milliseconds, where parsing a float8[] of them takes ten times as long.
    # Both byte columns are stored uncompressed (migration 0007): compressing took the refit 0.4 s.
    order_values = models.BinaryField()
    # Per customer: days from the last purchase to the run's as-of date (1 = the day before), int32 bytes.
    days_since_purchase = models.BinaryField()
    # Purchase lines before the as-of date that carry cost, their cost and their net amount.
    cost_lines = models.BigIntegerField()
    cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    net_with_cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "segment", "rfm_segment"], name="segmentation_one_cell_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} / {self.rfm_segment} in run {self.run_id}"


class CustomerValueModel(models.Model):
    """The customer-value fit a refit made with its run (segmentation.clv): the holdout check of both
    purchase models, the chosen one refitted on all data with the spend model, and per-segment totals.
    `status` is "not_fitted" with the reason in `message` when the data cannot be described (no repeat
    customers, too few customers, no repeaters in the calibration period)."""

    class Status(models.TextChoices):
        FITTED = "fitted"
        NOT_FITTED = "not_fitted"

    run = models.OneToOneField(SegmentationRun, on_delete=models.CASCADE, related_name="customer_value")
    status = models.CharField(max_length=20, choices=Status.choices)
    message = models.TextField(blank=True)
    chosen = models.CharField(max_length=20, blank=True)
    calibration_end = models.DateField(null=True, blank=True)  # exclusive
    holdout_end = models.DateField(null=True, blank=True)  # exclusive: the run's as-of date
    horizon_days = models.PositiveIntegerField(default=365)
    annual_discount_rate = models.FloatField(default=0.10)
    margin = models.FloatField(null=True, blank=True)
    margin_source = models.TextField(blank=True)
    # CustomerValueFit.as_dict(): the models with standard errors, the holdout report, the refit.
    report = models.JSONField(default=dict, blank=True)
    # Per K-Means and RFM segment: totals and means with their interval (SegmentValue fields).
    segments = models.JSONField(default=dict, blank=True)
    # The refitted purchase and spend models, pickled by this application (for other horizons).
    fitted = models.BinaryField(null=True, blank=True, editable=False)
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"Customer value of run {self.run_id} ({self.status})"


class CustomerValue(models.Model):
    """A customer's predicted value in one run, at the model's horizon and discount rate. Written in
    bulk with COPY, never edited; like the assignments, no database constraint on the keys.

    frequency: repeat purchases (purchase days after the first); recency_days: days from the first
    purchase to the last (the models' t_x, not the RFM recency); tenure_days: days from the first
    purchase to the run's as-of date (T)."""

    run = models.ForeignKey(
        SegmentationRun, on_delete=models.CASCADE, db_index=False, db_constraint=False, related_name="+"
    )
    customer = models.ForeignKey(
        "analytics.Customer", on_delete=models.CASCADE, db_index=False, db_constraint=False, related_name="+"
    )
    frequency = models.IntegerField()
    recency_days = models.IntegerField()
    tenure_days = models.IntegerField()
    p_alive = models.FloatField()
    expected_purchases = models.FloatField()
    expected_order_value = models.FloatField()
    clv = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="segmentation_one_value_per_run"),
        ]
