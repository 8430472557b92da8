"""The project's error hierarchy. Every app's errors derive from :class:`PlategridError`.

A message is a lazy gettext string with ``%(name)s`` parameters: it is rendered in Chinese and in
English (``render``), names what failed, quotes the bad value and says how to fix it. Services raise
these; the API's exception handler maps the class to an HTTP status with one body shape.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise


class PlategridError(Exception):
    """Base of every domain error."""

    default_code = "invalid"

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str | None = None,
        field: str | None = None,
        geometry: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        self.message = message
        self.code = code or self.default_code
        self.field = field
        # GeoJSON of the offending geometry, when showing it helps the user fix the input.
        self.geometry = geometry
        self.params = params
        super().__init__(self.render("en"))

    def render(self, language: str) -> str:
        with translation.override(language):
            text = str(self.message)
            return text % self.params if self.params else text

    def as_body(self) -> dict[str, Any]:
        """The API's error body: the message in the active language and in both, the code, and
        the field and geometry when there are any."""
        body: dict[str, Any] = {
            "detail": self.render(translation.get_language() or "zh-hans"),
            "code": self.code,
            "detail_zh": self.render("zh-hans"),
            "detail_en": self.render("en"),
        }
        if self.field:
            body["field"] = self.field
        if self.geometry:
            body["geometry"] = self.geometry
        return body


class InvalidInputError(PlategridError):
    """The input cannot be saved as it is (400)."""


class GeometryError(InvalidInputError):
    default_code = "invalid_geometry"


class TerritoryError(InvalidInputError):
    default_code = "territory_mismatch"


class NotFoundError(PlategridError):
    """The object does not exist or lies outside the user's territory (404)."""

    default_code = "not_found"


class ScopeError(PlategridError):
    """The user's role does not allow this action on this territory (403)."""

    default_code = "permission_denied"


class ConflictError(PlategridError):
    """The change conflicts with existing data: a duplicate, or a protected dependant (409)."""

    default_code = "conflict"
