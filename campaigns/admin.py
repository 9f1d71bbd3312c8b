from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from campaigns.models import Scenario, TargetExport


def _pretty(value: object) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["name", "segments", "incremental_profit", "roi", "created_by", "created_at", "segmentation_run"]
    list_select_related = ["created_by", "segmentation_run"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_by", "created_at", "segmentation_run", "inputs_pretty", "results_pretty"]
    fields = ["name", *readonly_fields]

    @admin.display(description="segments")
    def segments(self, scenario: Scenario) -> str:
        return ", ".join(scenario.results.get("segment", []))

    @admin.display(description="incremental profit")
    def incremental_profit(self, scenario: Scenario) -> str:
        return str(scenario.results.get("incremental_profit", ""))

    @admin.display(description="ROI")
    def roi(self, scenario: Scenario) -> str:
        roi = scenario.results.get("roi")
        return "—" if roi is None else f"{roi:.1%}"

    @admin.display(description="inputs")
    def inputs_pretty(self, scenario: Scenario) -> str:
        return _pretty(scenario.inputs)

    @admin.display(description="results")
    def results_pretty(self, scenario: Scenario) -> str:
        return _pretty(scenario.results)

    def has_add_permission(self, request: object) -> bool:
        # Scenarios are made by running a simulation (the simulator page or the API), not typed in.
        return False


@admin.register(TargetExport)
class TargetExportAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "segments",
        "customers",
        "control_customers",
        "control_share",
        "seed",
        "created_by",
        "created_at",
    ]
    list_select_related = ["created_by"]
    readonly_fields = [field.name for field in TargetExport._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
