"""The Django admin: segmentation runs with their figures, an action to make one active and one to
queue a refit; customer assignments to look up, never to edit (they are written by the refit only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.tasks import async_task

from retail_platform import roles
from retail_platform.errors import ApplicationError
from segmentation.models import CustomerSegment, SegmentationRun
from segmentation.services.runs import segmentation_run_activate

REFIT_TASK = "segmentation.tasks.segmentation_refit_task"


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SegmentationRun)
class SegmentationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "status",
        "is_active",
        "k",
        "silhouette",
        "inertia",
        "customers",
        "duration_seconds",
        "as_of",
        "frequency_informative",
        "import_batch",
    )
    list_filter = ("status", "is_active")
    ordering = ("-created_at", "-id")
    actions = ("make_active", "queue_refit")
    # The fitted pipeline and the figures saved for the pages are large and not for reading here.
    exclude = ("pipeline", "category_sales", "scatter_sample", "assignment_cube", "movement")
    readonly_fields = (
        "status",
        "message",
        "is_active",
        "k",
        "silhouette",
        "inertia",
        "customers",
        "duration_seconds",
        "timings",
        "as_of",
        "frequency_informative",
        "import_batch",
        "parameters",
        "clusters",
        "cut_points",
        "definitions",
        "assignments_pruned",
        "created_at",
        "finished_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SegmentationRun]:
        return (
            super()
            .get_queryset(request)
            .defer("pipeline", "category_sales", "scatter_sample", "assignment_cube", "movement")
            .select_related("import_batch")
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.user_is_staff(request.user)

    @admin.action(description="Make the selected run active")
    def make_active(self, request: HttpRequest, queryset: QuerySet[SegmentationRun]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one run to make active.", level=messages.ERROR)
            return
        run = queryset.get()
        try:
            segmentation_run_activate(run_id=run.pk)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return
        self.message_user(request, f"Run #{run.pk} is now the active segmentation.", level=messages.SUCCESS)

    @admin.action(description="Queue a refit on all the data now")
    def queue_refit(self, request: HttpRequest, queryset: QuerySet[SegmentationRun]) -> None:
        transaction.on_commit(lambda: async_task(REFIT_TASK, task_name="segmentation refit (admin)"))
        self.message_user(request, "A refit is queued; its run appears here when the worker has finished it.")


@admin.register(CustomerSegment)
class CustomerSegmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "customer",
        "run",
        "segment",
        "rfm_segment",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
    )
    list_filter = ("segment", "rfm_segment")
    search_fields = ("customer__external_id",)
    list_select_related = ("customer", "run")
    show_full_result_count = False
    raw_id_fields = ("customer", "run")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerSegment]:
        return super().get_queryset(request).defer("run__pipeline")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.user_is_staff(request.user)
