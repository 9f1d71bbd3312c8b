import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_platform.settings.dev")
application = get_wsgi_application()
