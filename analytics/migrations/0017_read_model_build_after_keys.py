"""Build the read model from the lines already imported, when there are lines and it is empty: a
database coming from before 0012. 0013 did this with the statements of its time; they now need the
keys of 0015 and the work tables of 0016, so the build ran here (a database 0013 built is left as
it is). It runs in 0018 now, which adds a table the build fills."""

from django.db import migrations


def build_read_model(apps, schema_editor):
    """Moved to 0018: the read model's build needs the table 0018 adds."""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0016_read_model_work_tables"),
    ]

    operations = [
        migrations.RunPython(build_read_model, migrations.RunPython.noop),
    ]
