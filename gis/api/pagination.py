"""Paging: plain lists as ``{count, next, previous, results}``, layers as FeatureCollections."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class PagePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class FeaturePagination(PagePagination):
    """A page of a layer is a GeoJSON FeatureCollection with the paging links as members."""

    page_size = 500
    max_page_size = 5000

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "type": "FeatureCollection",
                "count": self.page.paginator.count,  # type: ignore[union-attr]
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "features": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["type", "count", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "features": schema.get("properties", {}).get("features", schema),
            },
        }
