"""The admin map widget, served entirely by the project: OpenLayers from npm, and instead of an
outside tile server a base layer drawn from our own community boundaries."""

from __future__ import annotations

from django.contrib.gis.forms.widgets import OpenLayersWidget


class LocalMapWidget(OpenLayersWidget):
    template_name = "gis/local-openlayers.html"
    default_lon = 112.14
    default_lat = 32.04
    default_zoom = 12

    class Media:
        extend = False  # replace Django's media (OpenLayers from a CDN), do not add to it
        css = {"all": ("vendor/ol-css/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js")

    def __init__(self, attrs: dict[str, object] | None = None) -> None:
        super().__init__(attrs)
        for key in ("default_lon", "default_lat", "default_zoom"):
            self.attrs.setdefault(key, getattr(self, key))
