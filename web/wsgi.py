"""WSGI entry point. Production refuses to start while demo accounts exist (``web.checks``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings.production")
application = get_wsgi_application()

from web.checks import refuse_unsafe_production  # noqa: E402

refuse_unsafe_production()
