from django.views.generic import TemplateView

from retail_platform.pages import ViewerRequiredMixin


class CustomersView(ViewerRequiredMixin, TemplateView):
    template_name = "segmentation/customers.html"
