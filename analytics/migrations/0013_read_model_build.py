"""Built the read model (0012) from the lines already imported. The build now runs in 0017, after
the keys (0015) and the work tables (0016) its statements use; a database that applied this
migration before has its read model already."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0012_read_model"),
    ]

    operations = []
