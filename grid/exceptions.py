"""Errors of the responsibility grids, in the project's hierarchy (``gis.exceptions``)."""

from __future__ import annotations

from gis.exceptions import ConflictError, InvalidInputError, TerritoryError


class ZoneError(InvalidInputError):
    """A zone cannot be saved as drawn (400)."""

    default_code = "invalid_zone"


class ZoneOutsideCommunityError(ZoneError, TerritoryError):
    default_code = "zone_outside_community"


class ZoneOverlapError(ZoneError):
    default_code = "zone_overlap"


class BuildingCutError(ZoneError):
    default_code = "building_cut"


class AssignmentError(InvalidInputError):
    default_code = "invalid_assignment"


class ZoneCodeError(ConflictError):
    """No free sequence number is left in the community (409)."""

    default_code = "zone_codes_exhausted"
