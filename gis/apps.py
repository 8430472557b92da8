from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    # The label "gis" is taken by django.contrib.gis.
    name = "gis"
    label = "geo"
    verbose_name = _("Territory and property")

    def ready(self) -> None:
        from .api import schema  # noqa: F401 - registers the OpenAPI extension
