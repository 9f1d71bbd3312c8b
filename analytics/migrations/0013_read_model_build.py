"""Build the read model (0012) from the lines already imported: its own migration, so that every
table, key and constraint of 0012 exists when the statements run."""

from django.db import migrations


def build_read_model(apps, schema_editor):
    # The read model's repair path (which also records the days each batch's lines span), run once on
    # the data already imported.
    from analytics.warehouse.maintenance import warehouse_rebuild

    warehouse_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0012_read_model"),
    ]

    operations = [
        migrations.RunPython(build_read_model, migrations.RunPython.noop),
    ]
