"""Build the read model from the lines already imported, when there are lines and it is empty: a
database coming from before 0012. 0013 did this with the statements of its time; they now need the
keys of 0015 and the work tables of 0016, so the build runs here (a database 0013 built is left as
it is)."""

from django.db import migrations


def build_read_model(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM analytics_transactionline) "
            "AND NOT EXISTS (SELECT 1 FROM analytics_salestransaction)"
        )
        (needed,) = cursor.fetchone()
    if needed:
        # The read model's repair path (which also records the days each batch's lines span).
        from analytics.warehouse.maintenance import warehouse_rebuild

        warehouse_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0016_read_model_work_tables"),
    ]

    operations = [
        migrations.RunPython(build_read_model, migrations.RunPython.noop),
    ]
