"""One error shape for the whole API: ``{"detail", "code"}`` (+ both languages, field, geometry).

Domain errors (``gis.exceptions.PlategridError`` and subclasses) map to HTTP by class; DRF's own
errors keep their status and are reshaped. Nothing is written when an error is returned: services
run in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gis.exceptions import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PlategridError,
    ScopeError,
)

STATUS_BY_ERROR: list[tuple[type[PlategridError], int]] = [
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ScopeError, status.HTTP_403_FORBIDDEN),
    (ConflictError, status.HTTP_409_CONFLICT),
    (InvalidInputError, status.HTTP_400_BAD_REQUEST),
    (PlategridError, status.HTTP_400_BAD_REQUEST),
]


def domain_error(exc: PlategridError) -> tuple[dict[str, Any], int]:
    """The body and HTTP status of a domain error (also for the few views outside DRF)."""
    http_status = next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls))
    return exc.as_body(), http_status


def _domain_response(exc: PlategridError) -> Response:
    body, http_status = domain_error(exc)
    return Response(body, status=http_status)


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    """(field path, message, code) for every message in a DRF error detail."""
    if isinstance(detail, dict):
        return [m for k, v in detail.items() for m in _flatten(v, f"{prefix}{k}.")]
    if isinstance(detail, list):
        return [m for v in detail for m in _flatten(v, prefix)]
    return [(prefix.rstrip("."), str(detail), getattr(detail, "code", "invalid"))]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PlategridError):
        return _domain_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    messages = _flatten(exc.detail)
    field, message, code = messages[0] if messages else ("", str(exc), "error")
    if isinstance(exc, exceptions.ValidationError):
        prefix = f"{field}: " if field and field != "non_field_errors" else ""
        detail = f"{prefix}{message}"
    else:
        detail = message
    body: dict[str, Any] = {"detail": detail, "code": code}
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = [{"field": f, "detail": m, "code": c} for f, m, c in messages]
        if field and field != "non_field_errors":
            body["field"] = field
    response.data = body
    return response
