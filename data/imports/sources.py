"""Read a vector file into features in EPSG:4326, one :class:`Feature` per row of the file.

Formats: GeoJSON (read feature by feature here, so that one broken feature rejects one row and
not the file), GeoPackage, Shapefile (``.shp`` or a ``.zip`` holding one) and anything else GDAL
reads (pyogrio), OpenStreetMap PBF (pyrosm: buildings, or the street network).

Coordinate systems: the file's own CRS is read and the features reprojected to EPSG:4326. A file
without a CRS is refused unless the user names one; a file whose CRS contradicts the one the user
named is refused. GCJ-02 and BD-09 (the offsets of Chinese web maps) are converted to WGS84 when the
user says the file uses them: they cannot be told apart from WGS84 by looking at the file.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio
import shapely
from django.utils.translation import gettext_lazy as _
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.coords import convert
from gis.exceptions import InvalidInputError

Convention = Literal["wgs84", "gcj02", "bd09"]
OsmLayer = Literal["buildings", "streets"]


class ImportFileError(InvalidInputError):
    """The whole file cannot be read: nothing is imported."""

    default_code = "unreadable_file"


@dataclass(frozen=True)
class ReadOptions:
    source_crs: int | None = None  # EPSG code named by the user, for files without one
    convention: Convention = "wgs84"
    layer: str | None = None


@dataclass
class Feature:
    """One row of the file: ``row`` counts from 1 in file order."""

    row: int
    fid: str | None
    properties: dict[str, Any]
    geometry: shapely.Geometry | None
    # Why the geometry could not be read, when it could not (the row is rejected for it).
    geometry_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The row as read, for the report: attributes and the geometry as WKT (shortened)."""
        data: dict[str, Any] = {k: _plain(v) for k, v in self.properties.items()}
        if self.fid is not None:
            data["fid"] = self.fid
        if self.geometry is not None:
            wkt = shapely.to_wkt(self.geometry, rounding_precision=7)
            data["geometry"] = wkt if len(wkt) <= 2000 else wkt[:2000] + "…"
        return data


def _plain(value: Any) -> Any:
    """A JSON-safe version of a value read by pandas (NaN → None, numpy → Python)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _named_crs(epsg: int) -> CRS:
    try:
        return CRS.from_epsg(epsg)
    except CRSError as exc:
        raise ImportFileError(
            _("EPSG:%(value)s is not a known coordinate system."), code="unknown_crs", value=epsg
        ) from exc


def _file_crs(found: Any, options: ReadOptions, name: str) -> CRS:
    """The CRS to read the file in: its own, or the one the user named when it has none."""
    if found is None:
        if options.source_crs is None:
            raise ImportFileError(
                _(
                    "%(file)s does not say which coordinate system its coordinates are in. Name "
                    "it when you import (for example EPSG:4326 for longitude/latitude, EPSG:4546 "
                    "for CGCS2000 3° zone 37)."
                ),
                code="no_crs",
                file=name,
            )
        return _named_crs(options.source_crs)
    crs = CRS.from_user_input(found)
    if options.source_crs is not None:
        named = _named_crs(options.source_crs)
        if not crs.equals(named, ignore_axis_order=True):
            raise ImportFileError(
                _(
                    "%(file)s says its coordinates are in %(found)s but you named EPSG:%(value)s. "
                    "Leave the coordinate system empty to use the file's own, or fix the file."
                ),
                code="crs_conflict",
                file=name,
                found=crs.to_string(),
                value=options.source_crs,
            )
    return crs


def _to_wgs84(geoms: np.ndarray, crs: CRS, options: ReadOptions, name: str) -> np.ndarray:
    series = gpd.GeoSeries(geoms, crs=crs)
    if not crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        series = series.to_crs(4326)
    out = series.values
    present = out[~shapely.is_missing(out)]
    if len(present):
        lon_min, lat_min, lon_max, lat_max = shapely.total_bounds(present)
        if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
            raise ImportFileError(
                _(
                    "The coordinates of %(file)s do not fit %(crs)s: after conversion they lie "
                    "outside longitude/latitude (%(value)s). Name the coordinate system the file "
                    "really uses."
                ),
                code="wrong_crs",
                file=name,
                crs=crs.to_string(),
                value=f"{lon_min:.1f}, {lat_min:.1f} … {lon_max:.1f}, {lat_max:.1f}",
            )
    if options.convention != "wgs84":
        if not crs.is_geographic:
            raise ImportFileError(
                _(
                    "GCJ-02 and BD-09 are offsets of longitude/latitude: %(file)s is in a "
                    "projected system (%(crs)s) and cannot use them."
                ),
                code="wrong_crs",
                file=name,
                crs=crs.to_string(),
            )
        out = np.array(
            [
                None if g is None else convert(g, source=options.convention, target="wgs84")
                for g in out
            ],
            dtype=object,
        )
    return np.asarray(out, dtype=object)


def _features(
    rows: list[dict[str, Any]],
    fids: Sequence[str | None],
    geoms: np.ndarray,
    errors: list[str],
) -> Iterator[Feature]:
    for i, (props, fid, geom, error) in enumerate(zip(rows, fids, geoms, errors, strict=True)):
        yield Feature(
            row=i + 1,
            fid=fid,
            properties=props,
            geometry=None if geom is None or shapely.is_missing(geom) else geom,
            geometry_error=error,
        )


def read_geojson(path: Path, options: ReadOptions, name: str) -> list[Feature]:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ImportFileError(
            _("%(file)s is not valid JSON: %(reason)s."),
            code="malformed_geojson",
            file=name,
            reason=str(exc)[:200],
        ) from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ImportFileError(
            _('%(file)s is not a GeoJSON FeatureCollection (no "features" list).'),
            code="malformed_geojson",
            file=name,
        )
    found_crs = None
    crs_member = doc.get("crs")
    if isinstance(crs_member, dict):  # the 2008 GeoJSON crs member, still written by some tools
        found_crs = (crs_member.get("properties") or {}).get("name")
    elif options.source_crs is None:
        found_crs = "EPSG:4326"  # RFC 7946: GeoJSON is longitude/latitude on WGS84
    try:
        crs = _file_crs(found_crs, options, name)
    except CRSError as exc:
        raise ImportFileError(
            _("%(file)s names a coordinate system that is not known: %(value)s."),
            code="unknown_crs",
            file=name,
            value=str(found_crs),
        ) from exc
    rows, fids, geoms, errors = [], [], [], []
    for feature in doc["features"]:
        props = feature.get("properties") if isinstance(feature, dict) else None
        rows.append(props if isinstance(props, dict) else {})
        fid = feature.get("id") if isinstance(feature, dict) else None
        fids.append(None if fid is None else str(fid))
        geom, error = None, ""
        raw = feature.get("geometry") if isinstance(feature, dict) else None
        if raw is not None:
            try:
                geom = shapely.from_geojson(orjson.dumps(raw))
            except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
                error = str(exc)[:200]
        geoms.append(geom)
        errors.append(error)
    out = _to_wgs84(np.array(geoms, dtype=object), crs, options, name)
    return list(_features(rows, fids, out, errors))


def read_gdal(path: Path, options: ReadOptions, name: str) -> list[Feature]:
    """GeoPackage, Shapefile (or a .zip with one) and every other format GDAL reads."""
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise ImportFileError(
            _("%(file)s cannot be read as a GIS file: %(reason)s."),
            file=name,
            reason=str(exc)[:200],
        ) from exc
    names = [str(layer) for layer, _type in layers]
    if options.layer is not None and options.layer not in names:
        raise ImportFileError(
            _("%(file)s has no layer %(value)s; its layers are: %(layers)s."),
            code="unknown_layer",
            file=name,
            value=options.layer,
            layers=", ".join(names),
        )
    if options.layer is None and len(names) > 1:
        raise ImportFileError(
            _("%(file)s has several layers (%(layers)s): choose the one to import."),
            code="choose_layer",
            file=name,
            layers=", ".join(names),
        )
    layer = options.layer or (names[0] if names else None)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportFileError(
            _("%(file)s cannot be read as a GIS file: %(reason)s."),
            file=name,
            reason=str(exc)[:200],
        ) from exc
    crs = _file_crs(frame.crs, options, name)
    geoms = _to_wgs84(frame.geometry.values, crs, options, name)
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    rows = [{k: _plain(v) for k, v in record.items()} for record in attrs.to_dict(orient="records")]
    fids = [str(i) for i in frame.index]
    return list(_features(rows, fids, geoms, [""] * len(rows)))


def read_osm(path: Path, layer: OsmLayer, name: str) -> list[Feature]:
    """Buildings or the walkable street network of an OpenStreetMap extract (WGS84 by
    definition). Each feature's ``fid`` is ``way/123`` or ``relation/456``."""
    import pyrosm  # imported here: it loads protobuf parsers that other imports never need

    try:
        osm = pyrosm.OSM(str(path))
        frame = osm.get_buildings() if layer == "buildings" else osm.get_network("all")
    except Exception as exc:  # pyrosm raises bare Exceptions and parser errors of many kinds
        raise ImportFileError(
            _("%(file)s cannot be read as an OpenStreetMap PBF extract: %(reason)s."),
            file=name,
            reason=str(exc)[:200],
        ) from exc
    if frame is None or len(frame) == 0:
        return []
    attrs = pd.DataFrame(frame.drop(columns=["geometry", "tags"], errors="ignore"))
    rows = [
        {k: _plain(v) for k, v in record.items() if _plain(v) is not None}
        for record in attrs.to_dict(orient="records")
    ]
    fids = [f"{row.get('osm_type', 'way')}/{row['id']}" for row in rows]
    return list(_features(rows, fids, np.asarray(frame.geometry.values), [""] * len(rows)))


WKT_HEADER = re.compile(r"^\s*wkt\s*(?:\(\s*EPSG\s*:\s*(\d+)\s*\))?\s*$", re.IGNORECASE)


def read_wkt_table(path: Path, options: ReadOptions, name: str) -> list[Feature]:
    """A spreadsheet (first sheet) whose geometry is WKT in a column headed ``wkt``, or
    ``wkt (EPSG:4326)`` to say the coordinate system (as our exports write it)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ImportFileError(
            _("%(file)s cannot be read as an XLSX workbook: %(reason)s."),
            file=name,
            reason=str(exc)[:200],
        ) from exc
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    matches = [(i, WKT_HEADER.match(h)) for i, h in enumerate(header)]
    found = [(i, m) for i, m in matches if m]
    if not found:
        raise ImportFileError(
            _(
                "%(file)s has no geometry column: add a column headed wkt (EPSG:4326) holding "
                "each row's shape as WKT."
            ),
            code="missing_field",
            file=name,
        )
    column, match = found[0]
    crs = _file_crs(f"EPSG:{match.group(1)}" if match.group(1) else None, options, name)
    props, geoms, errors = [], [], []
    for values in rows:
        if all(v is None or v == "" for v in values):
            continue  # trailing empty rows of a spreadsheet
        record = {
            h: _plain(v) for h, v in zip(header, values, strict=False) if h and h != header[column]
        }
        props.append(record)
        wkt = values[column] if column < len(values) else None
        geom, error = None, ""
        if wkt not in (None, ""):
            try:
                geom = shapely.from_wkt(str(wkt))
            except shapely.errors.GEOSException as exc:
                error = str(exc)[:200]
        geoms.append(geom)
        errors.append(error)
    book.close()
    out = _to_wgs84(np.array(geoms, dtype=object), crs, options, name)
    # Row numbers as the spreadsheet shows them: the header is row 1.
    return [
        Feature(
            row=f.row + 1,
            fid=None,
            properties=f.properties,
            geometry=f.geometry,
            geometry_error=f.geometry_error,
        )
        for f in _features(props, [None] * len(props), out, errors)
    ]


def read_features(
    path: Path, options: ReadOptions, *, name: str, osm_layer: OsmLayer = "buildings"
) -> list[Feature]:
    """Every feature of the file at ``path`` (``name`` is the user's file name, for messages)."""
    if path.stat().st_size == 0:
        raise ImportFileError(_("%(file)s is empty."), code="empty_file", file=name)
    lower = name.lower()
    if lower.endswith(".pbf"):
        if options.source_crs not in (None, 4326) or options.convention != "wgs84":
            raise ImportFileError(
                _(
                    "OpenStreetMap data is always in WGS84 (EPSG:4326): leave the coordinate "
                    "system empty."
                ),
                code="crs_conflict",
            )
        return read_osm(path, osm_layer, name)
    if lower.endswith((".geojson", ".json")):
        return read_geojson(path, options, name)
    if lower.endswith(".xlsx"):
        return read_wkt_table(path, options, name)
    return read_gdal(path, options, name)
