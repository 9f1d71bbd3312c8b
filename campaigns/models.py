"""Saved campaign scenarios and the record of each targeted-customer export."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Scenario(models.Model):
    """A simulation saved under a name: what went in, what came out, and the segmentation it used."""

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The parameters as given ({"segments": [...], "discount": 0.1, ...}); omitted ones are absent.
    inputs = models.JSONField()
    # The simulation as the API returns it, with every assumption's value and where it came from.
    results = models.JSONField()
    # Kept when the run is deleted (the results still say what it was); null then.
    segmentation_run = models.ForeignKey(
        "segmentation.SegmentationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class TargetExport(models.Model):
    """One download of the targeted customers: who took it, and the seed that drew the control group,
    so the same split can be drawn again."""

    segments = models.JSONField()
    control_share = models.FloatField()
    seed = models.BigIntegerField()
    customers = models.PositiveIntegerField()
    control_customers = models.PositiveIntegerField()
    segmentation_run = models.ForeignKey(
        "segmentation.SegmentationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {', '.join(self.segments)} (seed {self.seed})"
