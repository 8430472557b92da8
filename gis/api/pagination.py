"""Paging: plain lists as ``{count, next, previous, results}``, layers as FeatureCollections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from ..exceptions import InvalidInputError, NotFoundError
from ..sql import fetch_rows


class PagePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class FeaturePagination(PagePagination):
    """A page of a layer is a GeoJSON FeatureCollection with the paging members.

    Pages are cut with LIMIT/OFFSET on the rows query; the total is counted only when the first
    page does not already hold every row (the common case of a map viewport needs one query).
    """

    page_size = 500
    max_page_size = 5000

    def paginate_rows(self, queryset: QuerySet[Any], request: Request) -> list[tuple[Any, ...]]:
        self.request: Request = request
        self.size = self.get_page_size(request) or self.page_size
        text = request.query_params.get(self.page_query_param, "1")
        if not text.isdigit() or int(text) < 1:
            raise NotFound(_("Invalid page."))
        self.number = int(text)
        offset = (self.number - 1) * self.size
        rows = fetch_rows(queryset[offset : offset + self.size + 1])
        self.has_next = len(rows) > self.size
        rows = rows[: self.size]
        if self.number == 1 and not self.has_next:
            self.count = len(rows)
        else:
            self.count = queryset.count()
            if not rows and self.number > 1:
                raise NotFound(_("Invalid page."))
        return rows

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "type": "FeatureCollection",
                "count": self.count,
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


class CheckedPagination(PagePagination):
    """Pages of a list (coverage gaps, the register's lists), refusing a bad ``?page=`` in both languages: not a page number (400
    ``bad_page``), past the last page (404 ``no_page``, naming the last one)."""

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        text = request.query_params.get(self.page_query_param) or "1"
        if text not in self.last_page_strings and not (text.isascii() and text.isdigit()):
            raise InvalidInputError(
                _("page is a page number (1, 2, …), not %(value)s."),
                code="bad_page",
                field="page",
                value=repr(text)[:20],
            )
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            size = self.get_page_size(request) or self.page_size
            last = self.django_paginator_class(queryset, size).num_pages
            raise NotFoundError(
                _("There is no page %(page)s: the last page of this list is %(last)s."),
                code="no_page",
                field="page",
                page=text[:20],
                last=last,
            ) from None
