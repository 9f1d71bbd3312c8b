from django.views.generic import TemplateView

from retail_platform.pages import ViewerRequiredMixin


class OverviewView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/overview.html"


class TrendsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/trends.html"


class ImportsView(ViewerRequiredMixin, TemplateView):
    template_name = "analytics/imports.html"
