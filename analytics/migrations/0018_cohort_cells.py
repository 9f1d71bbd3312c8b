"""The cohort cells of the read model (`CohortCell`), counted from the customers' transactions and
summaries already there; and the build of the whole read model from the lines for a database coming
from before 0012 (0017 did it, before the read model had this table)."""

import django.db.models.deletion
from django.db import migrations, models


def build(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM analytics_transactionline), EXISTS (SELECT 1 FROM analytics_salestransaction)"
        )
        lines, transactions = cursor.fetchone()
        if transactions:
            # Counted from every customer's summary, as an import counts those it touches.
            from analytics.warehouse.cohort_cells import cells_of, cells_write

            cells_write(cursor, taken=None, put=cells_of(touched=()))
            return
    if lines:
        # The read model's repair path (which also records the days each batch's lines span).
        from analytics.warehouse.maintenance import warehouse_rebuild

        warehouse_rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0017_read_model_build_after_keys'),
    ]

    operations = [
        migrations.CreateModel(
            name='CohortCell',
            fields=[
                ('pk', models.CompositePrimaryKey('period_kind', 'first_store_id', 'cohort', 'period', blank=True, editable=False, primary_key=True, serialize=False)),
                ('period_kind', models.CharField(max_length=7)),
                ('cohort', models.DateField()),
                ('period', models.DateField()),
                ('buyers', models.IntegerField()),
                ('lasts', models.IntegerField()),
                ('net', models.DecimalField(decimal_places=2, max_digits=18)),
                ('first_store', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='analytics.store')),
            ],
        ),
        migrations.RunPython(build, migrations.RunPython.noop),
    ]
