"""Export buildings, streets and territory boundaries as GeoPackage, GeoJSON or XLSX.

The columns are the ones the importers read (``data.imports.vector``), so an exported file
imported again changes nothing, and imported into an empty register gives the same rows: the
round trip is lossless (coordinates at full double precision in every format; in XLSX as WKT in a
column whose header names the coordinate system).
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import openpyxl
import orjson
import shapely
from django.db.models import QuerySet

from gis.models import Building, Community, District, Street, StreetOffice

from ..imports.vector import OWN_ID_PREFIX

logger = logging.getLogger("plategrid.data")

Layer = Literal["buildings", "streets", "boundaries"]
Format = Literal["gpkg", "geojson", "xlsx"]
LAYERS: tuple[Layer, ...] = ("buildings", "streets", "boundaries")
FORMATS: dict[Format, str] = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Header of the geometry column in XLSX (and CSV) files: WKT in this coordinate system.
WKT_HEADER = "wkt (EPSG:4326)"


def _shape(geom: Any) -> shapely.Geometry:
    return shapely.from_wkb(bytes(geom.wkb))


def _own_id(source_id: str | None, pk: int) -> str:
    return source_id or f"{OWN_ID_PREFIX}{pk}"


def _buildings(queryset: QuerySet[Building]) -> list[dict[str, Any]]:
    rows = queryset.select_related("compound", "community").order_by("pk")
    return [
        {
            "source_id": _own_id(b.source_id, b.pk),
            "name": b.name,
            "floors_above": b.floors_above,
            "floors_below": b.floors_below,
            "use": b.use,
            "compound": b.compound.name if b.compound else "",
            "community_code": b.community.code,
            "geometry": _shape(b.footprint),
        }
        for b in rows
    ]


def _streets(queryset: QuerySet[Street]) -> list[dict[str, Any]]:
    return [
        {
            "source_id": _own_id(s.source_id, s.pk),
            "name": s.name,
            "kind": s.kind,
            "district_code": s.district_id,
            "geometry": _shape(s.centerline),
        }
        for s in queryset.order_by("pk")
    ]


def _visible(queryset: Any, user: Any) -> Any:
    """Rows ``user`` may read; ``None`` is the system (the CLI without --user): everything."""
    return queryset if user is None else queryset.visible_to(user)


def _boundaries(user: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for district in _visible(District.objects, user).order_by("code"):
        rows.append(
            {
                "code": district.code,
                "name": district.name,
                "parent_code": "",
                "committee": "",
                "geometry": _shape(district.geom),
            }
        )
    for office in _visible(StreetOffice.objects, user).select_related("district").order_by("code"):
        rows.append(
            {
                "code": office.code,
                "name": office.name,
                "parent_code": office.district.code,
                "committee": "",
                "geometry": _shape(office.geom),
            }
        )
    communities = _visible(Community.objects, user).select_related("street_office")
    for community in communities.order_by("code"):
        rows.append(
            {
                "code": community.code,
                "name": community.name,
                "parent_code": community.street_office.code,
                "committee": community.committee,
                "geometry": _shape(community.geom),
            }
        )
    return rows


def layer_rows(layer: Layer, user: Any) -> list[dict[str, Any]]:
    """The rows of ``layer`` that ``user`` may read (``None``: all), with a ``geometry``
    (shapely, EPSG:4326)."""
    if layer == "buildings":
        return _buildings(_visible(Building.objects, user))
    if layer == "streets":
        return _streets(_visible(Street.objects, user))
    return _boundaries(user)


def _geojson(layer: Layer, rows: list[dict[str, Any]]) -> bytes:
    id_key = "code" if layer == "boundaries" else "source_id"
    features = [
        {
            "type": "Feature",
            "id": row[id_key],
            "properties": {k: v for k, v in row.items() if k != "geometry"},
            "geometry": orjson.Fragment(shapely.to_geojson(row["geometry"])),
        }
        for row in rows
    ]
    return orjson.dumps({"type": "FeatureCollection", "name": layer, "features": features})


def _gpkg(layer: Layer, rows: list[dict[str, Any]]) -> bytes:
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in row.items() if k != "geometry"} for row in rows],
        geometry=[row["geometry"] for row in rows],
        crs=4326,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{layer}.gpkg"
        frame.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")
        return path.read_bytes()


def _xlsx(layer: Layer, rows: list[dict[str, Any]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(layer)
    columns = [k for k in (rows[0] if rows else {"source_id": None}) if k != "geometry"]
    sheet.append([*columns, WKT_HEADER])
    for row in rows:
        # Full precision: 17 significant digits give back the same doubles.
        wkt = shapely.to_wkt(row["geometry"], rounding_precision=-1)
        sheet.append([*(row[c] for c in columns), wkt])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_layer(layer: Layer, fmt: Format, user: Any) -> tuple[bytes, str]:
    """The file bytes and a file name for ``layer`` in ``fmt``, scoped to ``user``."""
    rows = layer_rows(layer, user)
    writer = {"gpkg": _gpkg, "geojson": _geojson, "xlsx": _xlsx}[fmt]
    data = writer(layer, rows)
    logger.info(
        "export: user=%s layer=%s format=%s rows=%s",
        getattr(user, "username", None),
        layer,
        fmt,
        len(rows),
    )
    return data, f"plategrid-{layer}.{fmt}"
