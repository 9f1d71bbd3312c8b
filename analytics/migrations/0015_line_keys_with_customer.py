"""The customer in the keys of the lines and their claims: (row_key, customer_id) and (row_key,
customer_id, batch_id).

On a Citus cluster the lines and their claims are distributed by customer, and a distributed table
can only hold a primary or unique key that contains its distribution column. The same keys serve
a single server: a line's row key is a hash of its cells, the customer's among them, so a row key
still names one line; the key leads with it, so a lookup by row key alone still reads the index.

Django keeps `TransactionLine.row_key` as the model's primary key (its admin, read-only, identifies
a line by it); only the database's constraint grows. A claim learns its line's customer.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
ALTER TABLE analytics_transactionline
    DROP CONSTRAINT analytics_transactionline_pkey,
    ADD CONSTRAINT analytics_transactionline_pkey PRIMARY KEY (row_key, customer_id);
ALTER TABLE analytics_lineclaim ADD COLUMN customer_id bigint;
UPDATE analytics_lineclaim AS c SET customer_id = l.customer_id
FROM analytics_transactionline AS l WHERE l.row_key = c.row_key;
-- A claim is on a line that is there (deleting its batch hands the line over): none should be left.
DELETE FROM analytics_lineclaim WHERE customer_id IS NULL;
ALTER TABLE analytics_lineclaim
    ALTER COLUMN customer_id SET NOT NULL,
    DROP CONSTRAINT analytics_lineclaim_pkey,
    ADD CONSTRAINT analytics_lineclaim_pkey PRIMARY KEY (row_key, customer_id, batch_id);
"""

BACKWARD = """
ALTER TABLE analytics_lineclaim
    DROP CONSTRAINT analytics_lineclaim_pkey,
    ADD CONSTRAINT analytics_lineclaim_pkey PRIMARY KEY (row_key, batch_id),
    DROP COLUMN customer_id;
ALTER TABLE analytics_transactionline
    DROP CONSTRAINT analytics_transactionline_pkey,
    ADD CONSTRAINT analytics_transactionline_pkey PRIMARY KEY (row_key);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0014_import_batch_source_web"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.AddField(
                    model_name="lineclaim",
                    name="customer",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        default=None,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="analytics.customer",
                    ),
                    preserve_default=False,
                ),
                migrations.AlterField(
                    model_name="lineclaim",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "row_key", "customer_id", "batch_id", blank=True, editable=False, primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
        ),
    ]
