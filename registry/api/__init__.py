"""The register's API (people, ratings and contracts) and what its views share."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

#: Headers of every answer naming people or their houses: kept by no cache, the browser's included.
NO_STORE = {"Cache-Control": "private, no-store", "Pragma": "no-cache"}


class NoStore:
    """Mixed into an APIView: its answers carry :data:`NO_STORE` (the people API, ratings and
    contracts, the department exchange)."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        for header, value in NO_STORE.items():
            response[header] = value
        return response
