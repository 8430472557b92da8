"""Errors of the responsibility grids, in the project's hierarchy (``gis.exceptions``)."""

from __future__ import annotations

from gis.exceptions import ConflictError, InvalidInputError, TerritoryError


class ZoneError(InvalidInputError):
    """A zone cannot be saved as drawn (400)."""

    default_code = "invalid_zone"
    #: The zones the error is about (codes, or labels such as "new-1" for zones not saved yet).
    zones: tuple[str, ...] = ()


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


class ZoneShapeError(InvalidInputError):
    """A cut or merge of zone shapes that cannot be done as asked (400)."""

    default_code = "invalid_shape"


class PartitionJobError(InvalidInputError):
    """Parameters an automatic partition cannot run with, or a proposal that cannot be applied
    (400)."""

    default_code = "invalid_partition"


class PartitionAppliedError(ConflictError):
    """The partition was applied already (409)."""

    default_code = "partition_applied"


class SweepError(InvalidInputError):
    """A sweep, team, plan job or plan edit that cannot be made as asked (400)."""

    default_code = "invalid_sweep"


class SweepClosedError(ConflictError):
    """The sweep is closed: nothing of it changes any more (409)."""

    default_code = "sweep_closed"
