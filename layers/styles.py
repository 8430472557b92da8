"""The colours of the map products, one palette for all of them: the map page (sent to its script
in ``web.views.map_config``), the standalone HTML map and, later, the printed sheets."""

from __future__ import annotations

from gis.models import BuildingUse, CompoundKind, RoomUse

#: Building fill by use.
BUILDING_USE_COLOURS: dict[str, str] = {
    BuildingUse.RESIDENTIAL: "#f2c48d",
    BuildingUse.MIXED: "#e8a05c",
    BuildingUse.COMMERCIAL: "#d9726b",
    BuildingUse.INDUSTRIAL: "#9c8fc4",
    BuildingUse.DORMITORY: "#f5de7a",
    BuildingUse.PUBLIC: "#7fb3d5",
    BuildingUse.OTHER: "#c9c9c9",
}
#: Building fill by door-plate status (the tiles' ``plate`` property).
PLATE_STATUS_COLOURS: dict[str, str] = {
    "none": "#d9534f",
    "plate": "#f0ad4e",
    "population": "#5cb85c",
}
#: Compound fill by kind (drawn translucent).
COMPOUND_KIND_COLOURS: dict[str, str] = {
    CompoundKind.CLOSED_PROPERTY: "#cfe8cf",
    CompoundKind.MIXED_RESIDENTIAL: "#e6e0c8",
    CompoundKind.URBAN_VILLAGE: "#f3d6c6",
    CompoundKind.MARKET: "#f6c9d8",
    CompoundKind.EMPLOYER: "#d4dcf2",
    CompoundKind.OTHER: "#e3e3e3",
}
#: Room fill by use, in building plans.
ROOM_USE_COLOURS: dict[str, str] = {
    RoomUse.OWNER_OCCUPIED: "#a9d18e",
    RoomUse.RENTED_WHOLE: "#f4b183",
    RoomUse.RENTED_SHARED: "#ff8a65",
    RoomUse.VACANT: "#e7e6e6",
    RoomUse.COMMERCIAL: "#9dc3e6",
    RoomUse.OTHER: "#c9c9c9",
}
#: Responsibility zone fills (network map): light, distinct, printable; neighbouring zones take
#: different entries (``layers.network.zone_colours``).
ZONE_COLOURS: tuple[str, ...] = (
    "#a6cee3",
    "#b2df8a",
    "#fdbf6f",
    "#cab2d6",
    "#fb9a99",
    "#ffff99",
    "#8dd3c7",
    "#d9d9d9",
    "#fccde5",
    "#bc9e82",
)


def palette() -> dict[str, dict[str, str]]:
    """Every colour table, keyed as the map page's script reads them."""
    return {
        "building_use": {str(k): v for k, v in BUILDING_USE_COLOURS.items()},
        "plate_status": dict(PLATE_STATUS_COLOURS),
        "compound_kind": {str(k): v for k, v in COMPOUND_KIND_COLOURS.items()},
        "room_use": {str(k): v for k, v in ROOM_USE_COLOURS.items()},
    }
