from django.views.generic import TemplateView

from retail_platform.pages import AnalystRequiredMixin


class SimulatorView(AnalystRequiredMixin, TemplateView):
    template_name = "campaigns/simulator.html"
