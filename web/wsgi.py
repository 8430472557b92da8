"""WSGI entry point. Production refuses to start while demo accounts exist (``web.checks``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings.production")
application = get_wsgi_application()

from web.checks import refuse_unsafe_production  # noqa: E402

refuse_unsafe_production()

# Load the URL configuration (and the views it imports) now rather than on each worker's first
# request: a server that preloads the application (gunicorn --preload) then forks warm workers,
# so a restart under load answers at once instead of every worker paying the imports together.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018

# Natural breaks of the coverage choropleth (layers.coverage.choropleth) come from mapclassify,
# whose import (pandas, scikit-learn) takes seconds: paid here, once, not by a user's request.
import mapclassify  # noqa: E402, F401
