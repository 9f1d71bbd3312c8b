"""The cells' order values and days since purchase become packed bytes (see SegmentCell). Arrays do not
cast to bytea, so the saved cells are dropped and their runs marked as without summaries: the next
refit saves them again (the simulator asks for one meanwhile)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0003_run_summaries_and_segment_cells"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM segmentation_segmentcell; UPDATE segmentation_segmentationrun SET summaries_saved = false",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RemoveField(model_name="segmentcell", name="order_values"),
        migrations.RemoveField(model_name="segmentcell", name="days_since_purchase"),
        migrations.AddField(
            model_name="segmentcell", name="order_values", field=models.BinaryField(default=b""), preserve_default=False
        ),
        migrations.AddField(
            model_name="segmentcell",
            name="days_since_purchase",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
    ]
