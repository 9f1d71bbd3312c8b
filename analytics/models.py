"""Transactions as imported: dimensions (store, category, payment method, customer), the lines, and
the import batches they came from. The analytics read aggregates built from these (rollups)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils import timezone


class Store(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class PaymentMethod(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    # The customer id as it appears in the retailer's files.
    external_id = models.CharField(max_length=100)
    gender = models.CharField(max_length=20, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        # A constraint rather than unique=True, which would add a second (pattern-matching) index
        # that nothing uses and every import of new customers would maintain.
        constraints = [models.UniqueConstraint(fields=["external_id"], name="analytics_customer_external_id_key")]

    def __str__(self) -> str:
        return self.external_id


class ColumnMapping(models.Model):
    """A saved column mapping (a preset) for files whose layout differs from the shipped ones."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    mapping = models.JSONField(help_text="The JSON mapping, in the format documented in the README.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        # Imported, then taken back by a staff member: its lines are gone, the batch stays as the record.
        DELETED = "deleted"

    class LoadPath(models.TextChoices):
        COLUMNAR = "columnar", "columnar (Arrow, binary COPY)"
        SQL = "sql", "SQL (checks every row)"

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin upload"
        COMMAND = "command", "Command line"
        API = "api", "API"
        INBOX = "inbox", "Inbox folder"
        WEB = "web", "Imports page"

    file = models.FileField(upload_to="imports/%Y/%m/", max_length=500)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ADMIN)
    # A preset name (shipped or saved ColumnMapping); `mapping` given at import overrides it.
    mapping_name = models.CharField(max_length=100, default="mall")
    mapping = models.JSONField(null=True, blank=True)
    skip_invalid = models.BooleanField(
        default=False, help_text="Import the valid rows and report the rest, instead of rejecting the file."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # The stage running now (read, validate, load, aggregates) and how far it is, in percent.
    stage = models.CharField(max_length=20, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    # Per-row problems: [{"row", "column", "value", "reason"}], the first 1,000; error_count has all.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    # Seconds per stage: read, validate, load, aggregates (and refit when run in the same process).
    timings = models.JSONField(default=dict, blank=True)
    # Which import path loaded the file (see analytics.services.import_csv.pipeline).
    load_path = models.CharField(max_length=20, choices=LoadPath.choices, blank=True)
    # How many times a worker picked the batch up; a batch is failed after IMPORT_MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the batch was last put on the queue (created, or retried): the sweep's clock for a
    # batch no worker has started yet.
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The days the batch's new lines span: the data covers the union of its batches' spans.
    first_date = models.DateField(null=True, blank=True)
    last_date = models.DateField(null=True, blank=True)
    # When a staff member deleted the batch, who, and what went (lines, customers, rows per store).
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deletion = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"


class TransactionLine(models.Model):
    """One line of a receipt. Only the primary key and a block-range index of the batch: loading stays
    a bulk path, and the analytics read the read model (analytics.warehouse) rather than these rows."""

    # Fingerprint of the line's content and its occurrence in its file: importing the same rows
    # again (a re-upload, an overlapping daily export) finds them already here. The customer's cell
    # is hashed into it, so it names one line; the database's primary key is (row_key, customer_id),
    # which a Citus cluster needs to distribute the lines by customer (migration 0015). Django knows
    # row_key as the key (the read-only admin identifies a line by it); a statement joining lines by
    # key names the customer too, so that on a cluster the join runs on the worker holding both.
    row_key = models.UUIDField(primary_key=True)
    # No database foreign-key constraints: PostgreSQL checks them row by row (five lookups per line,
    # about 30 s per million lines at commit). The importer takes every id from a join with the
    # dimension tables in the same transaction, and PROTECT still guards deletes made through Django.
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, db_constraint=False, db_index=False, related_name="+"
    )
    invoice_no = models.CharField(max_length=100)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, db_constraint=False, db_index=False, related_name="+"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, db_constraint=False, db_index=False, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, db_constraint=False, db_index=False, related_name="+"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, db_constraint=False, db_index=False, related_name="+"
    )
    date = models.DateField()
    # Negative for a return: returns reduce net sales and are not purchases.
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    gross_amount = models.DecimalField(max_digits=14, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    net_amount = models.DecimalField(max_digits=14, decimal_places=2)
    # Total cost of the line, when the file carries cost.
    cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    is_return = models.BooleanField(default=False)

    class Meta:
        # A batch's lines lie together on disk, in the pages its import wrote: a block-range index
        # finds them (to add them to the read model, or take them away) for almost nothing to keep.
        indexes = [BrinIndex(fields=["batch"], name="analytics_line_batch_brin")]


class LineClaim(models.Model):
    """A line a later batch delivered again (a duplicate it skipped): the line belongs to the first batch
    that delivered it, and to this one too. Deleting the first batch keeps the line and hands it to the
    earliest batch still claiming it, so nothing a remaining file holds is lost."""

    # The line's customer is part of the key: the column the lines are distributed by on a Citus
    # cluster, where a claim lives on the same worker as its line.
    pk = models.CompositePrimaryKey("row_key", "customer_id", "batch_id")
    row_key = models.UUIDField()
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["batch"], name="analytics_lineclaim_batch")]


class DataVersion(models.Model):
    """A single row whose `version` goes up with every change to the data: caches key on it."""

    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


# --- The read model: what the analytics read instead of the lines (kept by analytics.warehouse). ---
# Dimension columns are plain ids without foreign-key constraints: every import adds its increment
# to these tables inside its own transaction, and per-row constraint checks would double the time.
# Tables per customer lead their keys with the customer, the column they are distributed by on a
# Citus cluster (next to the lines).


class SalesDaily(models.Model):
    """Money and line counts per store x day x category x payment method (every line, returns included).

    Sums here add up across any set of rows, so every money figure under any filter comes from this
    table. Counts of distinct things (transactions, customers) do not add up across rows and come
    from `SalesTransaction` instead. The key leads with store and date: a store or date filter reads
    a range of it.
    """

    pk = models.CompositePrimaryKey("store_id", "date", "category_id", "payment_method_id")
    date = models.DateField()
    store = models.ForeignKey(Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    gross_sales = models.DecimalField(max_digits=18, decimal_places=2)
    discount = models.DecimalField(max_digits=18, decimal_places=2)
    net_sales = models.DecimalField(max_digits=18, decimal_places=2)
    # Sum of the lines' cost over the lines that carry one; null when none does.
    cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    cost_lines = models.IntegerField()
    # Quantity summed over every line: returns (negative quantities) subtract.
    units = models.BigIntegerField()
    purchase_lines = models.IntegerField()
    return_lines = models.IntegerField()


TRANSACTIONS_STORE_DATE_INDEX = "analytics_salestx_store_date"


class SalesTransaction(models.Model):
    """One row per transaction: an invoice number on one day, in one store, for one customer.

    Rows exist for every such group of lines, returns-only ones included (their
    `purchase_category_ids` is empty). The `part_*` arrays are aligned: one entry per category x
    payment method the transaction's lines fall in (ordered by category, then method), with that
    part's net amount and its purchase and total line counts. They keep distinct counts and
    per-customer sums exact under a category filter without going back to the lines, and let an
    import (or the deletion of one) add or take away lines of a transaction already here.
    """

    pk = models.CompositePrimaryKey("customer_id", "date", "store_id", "invoice_no")
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    date = models.DateField()
    store = models.ForeignKey(Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    invoice_no = models.CharField(max_length=100)
    # Distinct categories of the purchase lines (empty for a returns-only transaction), ascending.
    purchase_category_ids = ArrayField(models.BigIntegerField())
    part_category_ids = ArrayField(models.BigIntegerField())
    part_payment_method_ids = ArrayField(models.BigIntegerField())
    part_net_amounts = ArrayField(models.DecimalField(max_digits=18, decimal_places=2))
    part_purchase_lines = ArrayField(models.IntegerField())
    part_lines = ArrayField(models.IntegerField())
    net_amount = models.DecimalField(max_digits=18, decimal_places=2)
    # Net amount of the purchase lines alone (returns excluded): the value of the purchase.
    purchase_net = models.DecimalField(max_digits=18, decimal_places=2)
    lines = models.IntegerField()
    purchase_lines = models.IntegerField()
    # Over the purchase lines that carry a cost: how many, their cost and their net amount (null
    # when none does).
    cost_lines = models.IntegerField()
    cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    net_with_cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)

    class Meta:
        indexes = [models.Index(fields=["store", "date"], name=TRANSACTIONS_STORE_DATE_INDEX)]


class CategoryTransactionsDaily(models.Model):
    """Transactions with a purchase line in a category, per day x store x category (the rows without a
    payment method), and per day x store x category x payment method (paid, in part, with that
    method); the rows without a category count every transaction (a purchase line in any category).
    Distinct transactions do not add up across categories, since one can hold several, but within one
    category (or all of them) they add up across days and stores: what is counted without a category
    filter, or with one category, reads this table instead of every transaction."""

    date = models.DateField()
    store = models.ForeignKey(Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, related_name="+"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, related_name="+"
    )
    transactions = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "store", "date", "payment_method"],
                name="analytics_categorytx_key",
                nulls_distinct=False,
            )
        ]


class CohortCell(models.Model):
    """Customers grouped by the period of their first purchase (their cohort) and its store, per
    period of their lines, for weeks, months and quarters: what the cohort tables read instead of
    every customer's history (see analytics.cohorts for the definitions). A cell before its cohort
    holds only the net of returns dated before the customers' first purchase. Kept by each import
    from the customers it touches (analytics.warehouse.cohort_cells)."""

    pk = models.CompositePrimaryKey("period_kind", "first_store_id", "cohort", "period")
    period_kind = models.CharField(max_length=7)  # week, month or quarter
    first_store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    cohort = models.DateField()  # the first day of the cohort's period
    period = models.DateField()  # the first day of the cell's period
    # The cohort's customers with a purchase in the period, and those whose last purchase is in it.
    buyers = models.IntegerField()
    lasts = models.IntegerField()
    # Net of every line of the cohort's customers dated in the period (returns subtract).
    net = models.DecimalField(max_digits=18, decimal_places=2)


class CustomerSummary(models.Model):
    """One row per customer with at least one line: what segmentation, customer value, cohorts and
    the simulator read instead of the lines.

    `history` holds every transaction of the customer (returns-only ones included), in (date, store,
    invoice) order, as 24-byte big-endian records: the day (int4, days since 2000-01-01), the net
    amount in cents (int8), the purchase lines' net in cents (int8) and the purchase line count
    (int4, 0 for a returns-only transaction). See analytics.warehouse.customers for the reader.
    """

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    transactions = models.IntegerField()
    # Transactions holding a purchase line, and the distinct days they fall on.
    purchase_transactions = models.IntegerField()
    purchase_days = models.IntegerField()
    # The last day with any line; the first and last day with a purchase (null without one).
    last_date = models.DateField()
    first_purchase_date = models.DateField(null=True)
    last_purchase_date = models.DateField(null=True)
    # The store and purchase categories of the first purchase (the earliest transaction with one).
    first_store = models.ForeignKey(
        Store, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    first_category_ids = ArrayField(models.BigIntegerField())
    # The stores where the customer made a purchase, by id (who counts among a store's customers).
    purchase_store_ids = ArrayField(models.BigIntegerField())
    # Every line's net amount (returns subtract), and the purchase lines' alone.
    net = models.DecimalField(max_digits=18, decimal_places=2)
    purchase_net = models.DecimalField(max_digits=18, decimal_places=2)
    # Purchase lines carrying a cost: how many, their cost and net (null when none does).
    cost_lines = models.IntegerField()
    cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    net_with_cost = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    # Net amount per category (every line), aligned, by category id.
    category_ids = ArrayField(models.BigIntegerField())
    category_nets = ArrayField(models.DecimalField(max_digits=18, decimal_places=2))
    history = models.BinaryField()


class SalesAnswer(models.Model):
    """Answers of the read model shared by every web worker and process: the second level of the
    cache behind each process's own (see analytics.warehouse.answers). The key carries the data
    version and the question; every change to the data empties the table."""

    key = models.CharField(max_length=200, primary_key=True)
    data_version = models.PositiveBigIntegerField()
    # The answer, pickled (written only by this application).
    value = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
