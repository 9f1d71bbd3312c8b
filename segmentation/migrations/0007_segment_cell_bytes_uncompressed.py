from django.db import migrations

# A refit writes about 8 MB of order values per run; compressing them (pglz, the only method the
# embedded server is built with) took 0.4 s of the refit's COPY for a quarter of the space.
FORWARD = (
    "ALTER TABLE segmentation_segmentcell ALTER COLUMN order_values SET STORAGE EXTERNAL, "
    "ALTER COLUMN days_since_purchase SET STORAGE EXTERNAL"
)
BACKWARD = (
    "ALTER TABLE segmentation_segmentcell ALTER COLUMN order_values SET STORAGE EXTENDED, "
    "ALTER COLUMN days_since_purchase SET STORAGE EXTENDED"
)


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0006_customer_value"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
