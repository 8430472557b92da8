"""OpenAPI schema fixes for GeoJSON features (loaded by ``GeoConfig.ready``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension


class FeatureSerializerExtension(GeoFeatureModelSerializerExtension):
    """drf-spectacular drops the read-only feature id from request schemas and then fails to
    find it; give the feature its id back."""

    priority = 1

    def map_geo_feature_model_serializer(self, serializer: Any, base_schema: dict[str, Any]) -> Any:
        id_field = serializer.Meta.id_field
        if id_field:
            base_schema.setdefault("properties", {}).setdefault(
                id_field, {"type": "integer", "readOnly": True}
            )
        return super().map_geo_feature_model_serializer(serializer, base_schema)
