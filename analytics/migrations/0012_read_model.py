"""The read model kept by each import (analytics.warehouse): the rollups are made again with keys an
increment can upsert into (customer first for the per-customer tables), a per-customer summary is
added, the lines get a block-range index of their batch, and a later batch's claims on the lines it delivered
again are kept (LineClaim). 0013 builds the new tables from the lines."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _fk(to, **extra):
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to=to,
        **extra,
    )


_MONEY = {"decimal_places": 2, "max_digits": 18}


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0011_sales_daily_store_date_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.DeleteModel(name="RollupBuild"),
        migrations.DeleteModel(name="SalesDaily"),
        migrations.DeleteModel(name="SalesTransaction"),
        migrations.DeleteModel(name="CategoryTransactionsDaily"),
        migrations.CreateModel(
            name="SalesDaily",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "store_id",
                        "date",
                        "category_id",
                        "payment_method_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("date", models.DateField()),
                ("store", _fk("analytics.store")),
                ("category", _fk("analytics.category")),
                ("payment_method", _fk("analytics.paymentmethod")),
                ("gross_sales", models.DecimalField(**_MONEY)),
                ("discount", models.DecimalField(**_MONEY)),
                ("net_sales", models.DecimalField(**_MONEY)),
                ("cost", models.DecimalField(null=True, **_MONEY)),
                ("cost_lines", models.IntegerField()),
                ("units", models.BigIntegerField()),
                ("purchase_lines", models.IntegerField()),
                ("return_lines", models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="SalesTransaction",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "customer_id",
                        "date",
                        "store_id",
                        "invoice_no",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("customer", _fk("analytics.customer")),
                ("date", models.DateField()),
                ("store", _fk("analytics.store")),
                ("invoice_no", models.CharField(max_length=100)),
                (
                    "purchase_category_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                (
                    "part_category_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                (
                    "part_payment_method_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                (
                    "part_net_amounts",
                    django.contrib.postgres.fields.ArrayField(base_field=models.DecimalField(**_MONEY), size=None),
                ),
                (
                    "part_purchase_lines",
                    django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), size=None),
                ),
                ("part_lines", django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), size=None)),
                ("net_amount", models.DecimalField(**_MONEY)),
                ("purchase_net", models.DecimalField(**_MONEY)),
                ("lines", models.IntegerField()),
                ("purchase_lines", models.IntegerField()),
                ("cost_lines", models.IntegerField()),
                ("cost", models.DecimalField(null=True, **_MONEY)),
                ("net_with_cost", models.DecimalField(null=True, **_MONEY)),
            ],
            options={
                "indexes": [models.Index(fields=["store", "date"], name="analytics_salestx_store_date")],
            },
        ),
        migrations.CreateModel(
            name="CategoryTransactionsDaily",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                ("store", _fk("analytics.store")),
                ("category", _fk("analytics.category", null=True)),
                ("payment_method", _fk("analytics.paymentmethod", null=True)),
                ("transactions", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("category", "store", "date", "payment_method"),
                        name="analytics_categorytx_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CustomerSummary",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="analytics.customer",
                    ),
                ),
                ("transactions", models.IntegerField()),
                ("purchase_transactions", models.IntegerField()),
                ("purchase_days", models.IntegerField()),
                ("last_date", models.DateField()),
                ("first_purchase_date", models.DateField(null=True)),
                ("last_purchase_date", models.DateField(null=True)),
                ("first_store", _fk("analytics.store", null=True)),
                (
                    "first_category_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                (
                    "purchase_store_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                ("net", models.DecimalField(**_MONEY)),
                ("purchase_net", models.DecimalField(**_MONEY)),
                ("cost_lines", models.IntegerField()),
                ("cost", models.DecimalField(null=True, **_MONEY)),
                ("net_with_cost", models.DecimalField(null=True, **_MONEY)),
                (
                    "category_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                (
                    "category_nets",
                    django.contrib.postgres.fields.ArrayField(base_field=models.DecimalField(**_MONEY), size=None),
                ),
                ("history", models.BinaryField()),
            ],
        ),
        migrations.RunSQL(
            "CREATE SEQUENCE analytics_data_version_seq; "
            "SELECT setval('analytics_data_version_seq', coalesce((SELECT max(version) FROM analytics_dataversion), 0) + 1)",
            "DROP SEQUENCE analytics_data_version_seq",
        ),
        migrations.AddField(
            model_name="importbatch", name="first_date", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="importbatch", name="last_date", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="importbatch", name="deleted_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="importbatch",
            name="deleted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="importbatch", name="deletion", field=models.JSONField(blank=True, default=dict)
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("deleted", "Deleted"),
                ],
                db_index=True,
                default="queued",
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="LineClaim",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "row_key", "batch_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("row_key", models.UUIDField()),
                ("batch", _fk("analytics.importbatch")),
            ],
            options={
                "indexes": [models.Index(fields=["batch"], name="analytics_lineclaim_batch")],
            },
        ),
        migrations.AddIndex(
            model_name="transactionline",
            index=django.contrib.postgres.indexes.BrinIndex(fields=["batch"], name="analytics_line_batch_brin"),
        ),
    ]
