"""Import buildings, streets and territory boundaries from features (``data.imports.sources``).

Every row goes through the register's services (``gis.services``): the same validation, scope
and history as an edit in the API. Each row is saved in its own savepoint inside the import's
single transaction, so a rejected row leaves no trace and the good rows stay. Rows are matched to
what is stored by a stable id — ``source_id`` for buildings and streets, the official code for
territory nodes — so importing the same file twice changes nothing, and a changed file updates.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from gis import services
from gis.exceptions import GeometryError, InvalidInputError, PlategridError
from gis.geometry import from_shapely
from gis.models import (
    Building,
    BuildingUse,
    Community,
    CommunityCommittee,
    District,
    Street,
    StreetKind,
    StreetOffice,
)

from .report import Outcome, Report
from .sources import Feature

Progress = Callable[[int, int], None]

# Buildings created in plategrid (no outside source) are exported with this id so that the
# exported file can be imported again onto the same buildings.
OWN_ID_PREFIX = "plategrid:"

# OpenStreetMap `building=*` values → our building use (anything else: other).
OSM_BUILDING_USE = {
    **dict.fromkeys(
        [
            "apartments",
            "residential",
            "house",
            "detached",
            "semidetached_house",
            "terrace",
            "bungalow",
            "farm",
            "cabin",
            "static_caravan",
        ],
        BuildingUse.RESIDENTIAL,
    ),
    **dict.fromkeys(
        ["commercial", "retail", "office", "kiosk", "supermarket", "hotel", "shop"],
        BuildingUse.COMMERCIAL,
    ),
    **dict.fromkeys(
        ["industrial", "warehouse", "factory", "manufacture", "storage_tank"],
        BuildingUse.INDUSTRIAL,
    ),
    **dict.fromkeys(["dormitory"], BuildingUse.DORMITORY),
    **dict.fromkeys(
        [
            "public",
            "civic",
            "government",
            "school",
            "university",
            "college",
            "kindergarten",
            "hospital",
            "church",
            "cathedral",
            "chapel",
            "mosque",
            "temple",
            "train_station",
            "transportation",
            "fire_station",
            "museum",
            "library",
        ],
        BuildingUse.PUBLIC,
    ),
}
# OpenStreetMap `highway=*` values → our street kind. Other values (corridors, elevators,
# platforms, roads under construction…) are not streets one walks a sweep on: rejected, with why.
OSM_STREET_KIND = {
    **dict.fromkeys(
        [
            "motorway",
            "trunk",
            "primary",
            "secondary",
            "motorway_link",
            "trunk_link",
            "primary_link",
            "secondary_link",
        ],
        StreetKind.ARTERIAL,
    ),
    **dict.fromkeys(
        ["tertiary", "tertiary_link", "residential", "unclassified", "living_street", "road"],
        StreetKind.LOCAL,
    ),
    **dict.fromkeys(
        [
            "service",
            "pedestrian",
            "footway",
            "path",
            "steps",
            "track",
            "trail",
            "bridleway",
            "cycleway",
            "alley",
        ],
        StreetKind.LANE,
    ),
}

SLIVER_SHARE = 0.01
# New rows inserted together (see _NewBuildings).
BATCH = 500

# Column names accepted for each field, English first, then the Chinese headers of registers.
NAME_COLUMNS = ("name", "名称", "建筑名称", "道路名称")
FLOORS_ABOVE_COLUMNS = ("floors_above", "building:levels", "地上层数", "层数")
FLOORS_BELOW_COLUMNS = ("floors_below", "building:levels:underground", "地下层数")
USE_COLUMNS = ("use", "用途")
KIND_COLUMNS = ("kind", "类别", "道路等级")
CODE_COLUMNS = ("code", "代码", "区划代码", "编码")
COMMITTEE_COLUMNS = ("committee", "自治组织")


@dataclass(frozen=True)
class Options:
    """How to read rows: the acting user (``None`` for the CLI) and the namespace of the file's
    own ids (``source``), used when the file has no ``source_id`` column."""

    actor: Any = None
    source: str = "file"


def _value(feature: Feature, columns: Iterable[str]) -> Any:
    for column in columns:
        value = feature.properties.get(column)
        if value is not None and value != "":
            return value
    return None


def _text(feature: Feature, columns: Iterable[str]) -> str:
    value = _value(feature, columns)
    return "" if value is None else str(value).strip()


def _integer(
    feature: Feature, columns: tuple[str, ...], default: int, report: Report, sid: str
) -> int:
    """A whole number; a fraction (OpenStreetMap's ``building:levels=2.5``, a floor under the
    roof) is rounded up and the change reported."""
    value = _value(feature, columns)
    if value is None:
        return default
    try:
        number = float(str(value).strip())
    except ValueError:
        number = float("nan")
    if not math.isfinite(number):
        raise InvalidInputError(
            _("%(name)s must be a whole number, not %(value)s."),
            code="bad_value",
            field=columns[0],
            name=columns[0],
            value=repr(value),
        )
    if not number.is_integer():
        report.repaired(
            feature.row,
            InvalidInputError(
                _("%(name)s %(value)s was rounded up to %(rounded)s."),
                code="rounded_value",
                field=columns[0],
                name=columns[0],
                value=value,
                rounded=math.ceil(number),
            ),
            source_id=sid,
        )
    return math.ceil(number)


def _choice(value: str, choices: type[models.TextChoices], field: str) -> str:
    """A choice given by its code (``residential``) or its Chinese or English label."""
    wanted = value.strip().lower()
    for code, label in choices.choices:
        if wanted in {code, str(label).lower()}:
            return code
    with translation.override("zh-hans"):
        for code, label in choices.choices:
            if value.strip() == str(label):
                return code
    raise InvalidInputError(
        _("%(name)s %(value)s is not one of: %(allowed)s."),
        code="bad_value",
        field=field,
        name=field,
        value=repr(value),
        allowed=", ".join(code for code, _label in choices.choices),
    )


def source_id(feature: Feature, options: Options) -> str:
    """The row's stable id: its ``source_id`` column, else the file's own feature id in the
    namespace ``options.source`` (``osm`` for OpenStreetMap: ``osm:way/123``)."""
    given = _text(feature, ("source_id", "来源编号"))
    if given:
        return given
    own = _text(feature, ("id", "osm_id", "fid"))
    if feature.fid is not None and "osm_type" in feature.properties:
        return f"osm:{feature.fid}"
    if own or feature.fid is not None:
        return f"{options.source}:{own or feature.fid}"
    raise InvalidInputError(
        _(
            "The row has no id: add a source_id or id column so that importing the file again "
            "updates this row instead of adding it twice."
        ),
        code="missing_field",
        field="source_id",
    )


def _shape(feature: Feature, report: Report, sid: str, *, kind: str) -> shapely.Geometry:
    """The feature's geometry as one ``kind`` ("Polygon", "MultiPolygon", "LineString"),
    repaired when ``make_valid`` can repair it (the repair is reported), else an error."""
    if feature.geometry_error:
        raise GeometryError(
            _("The geometry cannot be read: %(reason)s."),
            code="malformed_geometry",
            field="geometry",
            reason=feature.geometry_error,
        )
    geom = feature.geometry
    if geom is None or geom.is_empty:
        raise GeometryError(_("The row has no geometry."), code="missing_field", field="geometry")
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
        report.repaired(
            feature.row,
            GeometryError(
                _("Heights (Z values) were dropped: the register stores plans in 2D."),
                code="dropped_z",
                field="geometry",
            ),
            source_id=sid,
        )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        parts = _parts(shapely.make_valid(geom), kind)
        if kind != "LineString":
            # make_valid keeps the slivers of a figure-of-eight as parts of their own: a part
            # under 1% of the area is such a sliver, not a building or an area of its own.
            total = sum(part.area for part in parts)
            parts = [part for part in parts if part.area >= SLIVER_SHARE * total]
        if len(parts) != 1 and kind != "MultiPolygon":
            raise GeometryError(
                _(
                    "The geometry is not valid (%(reason)s) and cannot be repaired into one "
                    "shape: make_valid gives %(count)s parts. Fix it in the source file."
                ),
                code="invalid_geometry",
                field="geometry",
                reason=reason,
                count=len(parts),
            )
        geom = parts[0] if kind != "MultiPolygon" else shapely.MultiPolygon(parts)
        report.repaired(
            feature.row,
            GeometryError(
                _("The geometry was not valid (%(reason)s) and was repaired with make_valid."),
                code="repaired_geometry",
                field="geometry",
                reason=reason,
            ),
            source_id=sid,
        )
    parts = _parts(geom, kind)
    if kind == "MultiPolygon" and parts:
        return shapely.MultiPolygon(parts)
    if kind == "LineString" and len(parts) > 1:
        merged = shapely.line_merge(shapely.MultiLineString(parts))
        parts = _parts(merged, kind)
    if len(parts) != 1:
        raise GeometryError(
            _(
                "Expected one %(expected)s but the row holds a %(value)s with %(count)s parts: "
                "split it into one row per part."
            ),
            code="wrong_type",
            field="geometry",
            expected=kind,
            value=geom.geom_type,
            count=len(parts),
        )
    return parts[0]


def _parts(geom: shapely.Geometry, kind: str) -> list[shapely.Geometry]:
    """The parts of ``geom`` of the family of ``kind`` (polygons or lines), non-empty."""
    family = ("Polygon",) if kind in ("Polygon", "MultiPolygon") else ("LineString",)
    parts = []
    for part in shapely.get_parts(geom):
        if part.geom_type in family and not part.is_empty:
            parts.append(part)
        elif part.geom_type.startswith(("Multi", "GeometryCollection")):
            parts.extend(_parts(part, kind))
    return parts


def _same(stored: GEOSGeometry, new: shapely.Geometry) -> bool:
    old = shapely.from_wkb(bytes(stored.wkb))
    return bool(shapely.equals_exact(shapely.normalize(old), shapely.normalize(new), 1e-9))


def _update(
    stored: Any,
    values: dict[str, Any],
    geometry_field: str,
    geom: shapely.Geometry,
    save: Callable[..., Any],
    actor: Any,
) -> Outcome:
    """Save through ``save`` what the row changes of ``stored``: the ``values`` that differ and
    the geometry (in ``geometry_field``) unless it is the same; nothing when nothing differs."""
    changed = {k: v for k, v in values.items() if getattr(stored, k) != v}
    if not _same(getattr(stored, geometry_field), geom):
        changed[geometry_field] = from_shapely(geom)
    if not changed:
        return "unchanged"
    save(actor=actor, data=changed, instance=stored)
    return "updated"


def run_rows(
    features: list[Feature],
    handle: Callable[[Feature, str], Outcome | None],
    identify: Callable[[Feature], str],
    report: Report,
    progress: Progress | None,
    *,
    flush: Callable[[], None] | None = None,
) -> None:
    """Feed every feature to ``handle`` in its own savepoint; count or reject it. A second row
    with an id seen before in the same file is rejected as a duplicate. ``handle`` returns
    ``None`` for a row it left to ``flush`` (called every ``BATCH`` rows and at the end), which
    then counts or rejects it."""
    seen: dict[str, int] = {}
    total = len(features)
    for done, feature in enumerate(features, start=1):
        report.read += 1
        sid = ""
        try:
            sid = identify(feature)
            if sid in seen:
                raise InvalidInputError(
                    _("Duplicate: row %(first)s of the file already has the id %(value)s."),
                    code="duplicate",
                    field="source_id",
                    first=seen[sid],
                    value=sid,
                )
            seen[sid] = feature.row
            with transaction.atomic():
                outcome = handle(feature, sid)
            if outcome is not None:
                report.count(outcome)
        except PlategridError as error:
            report.reject(feature.row, error, source_id=sid, data=feature.describe())
        if flush is not None and (done % BATCH == 0 or done == total):
            flush()
        if progress is not None and (done % 100 == 0 or done == total):
            progress(done, total)


# ---------------------------------------------------------------------------------------------
# Buildings


def _building_use(feature: Feature) -> str:
    given = _text(feature, USE_COLUMNS)
    if given:
        return _choice(given, BuildingUse, "use")
    tag = _text(feature, ("building",))
    return OSM_BUILDING_USE.get(tag, BuildingUse.OTHER) if tag else BuildingUse.RESIDENTIAL


class _Stored:
    """The stored rows the file's ids name, read in a few queries up front rather than one per
    row: our own ids (``plategrid:<pk>``, from our exports) by key, the others by source id."""

    CHUNK = 5000

    def __init__(self, queryset: Any, features: list[Feature], identify: Callable[[Feature], str]):
        sids = set()
        for feature in features:
            with contextlib.suppress(PlategridError):  # rejected later, with its reason
                sids.add(identify(feature))
        own = [s.removeprefix(OWN_ID_PREFIX) for s in sids if s.startswith(OWN_ID_PREFIX)]
        outside = [s for s in sids if not s.startswith(OWN_ID_PREFIX)]
        self.rows: dict[str, Any] = {}
        pks = [int(pk) for pk in own if pk.isdigit()]
        for start in range(0, len(pks), self.CHUNK):
            for pk, row in queryset.in_bulk(pks[start : start + self.CHUNK]).items():
                self.rows[f"{OWN_ID_PREFIX}{pk}"] = row
        for start in range(0, len(outside), self.CHUNK):
            chunk = outside[start : start + self.CHUNK]
            self.rows.update(queryset.in_bulk(chunk, field_name="source_id"))

    def get(self, sid: str) -> Any:
        return self.rows.get(sid)


def _run_by_source_id(
    queryset: Any,
    features: list[Feature],
    handle: Callable[[Feature, str, Any], Outcome | None],
    report: Report,
    options: Options,
    progress: Progress | None,
    *,
    flush: Callable[[], None] | None = None,
) -> None:
    """``run_rows`` for rows identified by ``source_id``: ``handle`` also gets the stored row
    the id names (``None`` for a new row), all of them read up front (:class:`_Stored`)."""

    def identify(feature: Feature) -> str:
        return source_id(feature, options)

    stored_rows = _Stored(queryset, features, identify)

    def handle_row(feature: Feature, sid: str) -> Outcome | None:
        return handle(feature, sid, stored_rows.get(sid))

    run_rows(features, handle_row, identify, report, progress, flush=flush)


def _gone(sid: str) -> InvalidInputError:
    return InvalidInputError(
        _("%(value)s no longer exists in the register: it was deleted after the export."),
        code="unknown_code",
        field="source_id",
        value=sid,
    )


class _NewBuildings:
    """New buildings are inserted a batch at a time (``services.bulk_add``: the same database
    rules in one statement, about eight times faster than saving them one by one). A batch the
    database or the user's territory refuses is saved again row by row, so that every refused
    row is reported with its own reason and the others are kept."""

    def __init__(self, report: Report, actor: Any) -> None:
        self.report = report
        self.actor = actor
        self.pending: list[tuple[Feature, str, dict[str, Any]]] = []

    def add(self, feature: Feature, sid: str, data: dict[str, Any]) -> None:
        self.pending.append((feature, sid, data))

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with transaction.atomic():
                buildings = [Building(**data) for _feature, _sid, data in batch]
                services.bulk_add(buildings, actor=self.actor)
                if self.actor is not None:
                    codes = Building.objects.filter(pk__in=[b.pk for b in buildings])
                    for code in set(codes.values_list("community__code", flat=True)):
                        services.require_write(self.actor, code)
            self.report.created += len(batch)
        except PlategridError:
            for feature, sid, data in batch:
                try:
                    services.save_building(actor=self.actor, data=data)
                    self.report.created += 1
                except PlategridError as error:
                    self.report.reject(feature.row, error, source_id=sid, data=feature.describe())


def import_buildings(
    features: list[Feature], report: Report, options: Options, progress: Progress | None = None
) -> None:
    def handle(feature: Feature, sid: str, stored: Building | None) -> Outcome | None:
        footprint = _shape(feature, report, sid, kind="Polygon")
        values: dict[str, Any] = {
            "name": _text(feature, NAME_COLUMNS)[:100],
            "floors_above": _integer(feature, FLOORS_ABOVE_COLUMNS, 1, report, sid),
            "floors_below": _integer(feature, FLOORS_BELOW_COLUMNS, 0, report, sid),
            "use": _building_use(feature),
        }
        if stored is None:
            if sid.startswith(OWN_ID_PREFIX):
                raise _gone(sid)
            new.add(
                feature, sid, {**values, "footprint": from_shapely(footprint), "source_id": sid}
            )
            return None
        services.require_write(options.actor, stored.community.code)
        return _update(
            stored, values, "footprint", footprint, services.save_building, options.actor
        )

    new = _NewBuildings(report, options.actor)
    buildings = Building.objects.select_related("community")
    _run_by_source_id(buildings, features, handle, report, options, progress, flush=new.flush)
    report.issues.sort(key=lambda issue: issue.row)


# ---------------------------------------------------------------------------------------------
# Streets


def _street_kind(feature: Feature) -> str:
    given = _text(feature, KIND_COLUMNS)
    if given:
        return _choice(given, StreetKind, "kind")
    highway = _text(feature, ("highway",))
    if highway in OSM_STREET_KIND:
        return OSM_STREET_KIND[highway]
    raise InvalidInputError(
        _(
            "highway=%(value)s is not a street that field staff walk (only roads, streets, lanes "
            "and footpaths are imported)."
        ),
        code="not_a_street",
        field="highway",
        value=highway or "?",
    )


def import_streets(
    features: list[Feature], report: Report, options: Options, progress: Progress | None = None
) -> None:
    def handle(feature: Feature, sid: str, stored: Street | None) -> Outcome:
        kind = _street_kind(feature)
        line = _shape(feature, report, sid, kind="LineString")
        values: dict[str, Any] = {"name": _text(feature, NAME_COLUMNS), "kind": kind}
        if stored is None:
            if sid.startswith(OWN_ID_PREFIX):
                raise _gone(sid)
            data = {**values, "centerline": from_shapely(line), "source_id": sid}
            services.save_street(actor=options.actor, data=data)
            return "created"
        services.require_write(options.actor, stored.district_id)
        return _update(stored, values, "centerline", line, services.save_street, options.actor)

    _run_by_source_id(Street.objects.all(), features, handle, report, options, progress)


# ---------------------------------------------------------------------------------------------
# Territory boundaries: districts (6 digits), street offices (9) and communities (12)

LEVELS: dict[int, tuple[type[models.Model], Any]] = {
    6: (District, services.save_district),
    9: (StreetOffice, services.save_street_office),
    12: (Community, services.save_community),
}


def _code(feature: Feature) -> str:
    code = _text(feature, CODE_COLUMNS)
    if code.endswith(".0"):  # a code read as a number from a spreadsheet
        code = code[:-2]
    if not code:
        raise InvalidInputError(
            _("The row has no code: territory boundaries need their official code."),
            code="missing_field",
            field="code",
        )
    if len(code) not in LEVELS or not code.isdigit():
        raise InvalidInputError(
            _(
                "%(value)s is not a territory code: districts have 6 digits, street offices 9 "
                "and communities 12."
            ),
            code="bad_code",
            field="code",
            value=repr(code),
        )
    return code


def _parent(model: type[models.Model], code: str) -> dict[str, Any]:
    if model is District:
        return {}
    parent_model, field = (
        (District, "district") if len(code) == 9 else (StreetOffice, "street_office")
    )
    parent_code = code[:6] if len(code) == 9 else code[:9]
    parent = parent_model.objects.filter(code=parent_code).first()
    if parent is None:
        raise InvalidInputError(
            _(
                "Unknown parent code %(value)s for %(code_of)s: import or create the parent first "
                "(the file may hold it, in any order)."
            ),
            code="unknown_code",
            field="code",
            value=parent_code,
            code_of=code,
        )
    return {field: parent}


def import_boundaries(
    features: list[Feature], report: Report, options: Options, progress: Progress | None = None
) -> None:
    # Parents before children, whatever the order of the file; rows keep their file numbers.
    ordered = sorted(features, key=lambda f: len(_text(f, CODE_COLUMNS)) or 99)

    def handle(feature: Feature, code: str) -> Outcome:
        model, save = LEVELS[len(code)]
        geom = _shape(feature, report, code, kind="MultiPolygon")
        name = _text(feature, NAME_COLUMNS)
        if not name:
            raise InvalidInputError(_("The row has no name."), code="missing_field", field="name")
        values: dict[str, Any] = {"code": code, "name": name, **_parent(model, code)}
        if model is Community:
            committee = _text(feature, COMMITTEE_COLUMNS)
            if committee:
                values["committee"] = _choice(committee, CommunityCommittee, "committee")
        stored = model.objects.filter(code=code).first()  # type: ignore[attr-defined]
        if stored is None:
            save(actor=options.actor, data={**values, "geom": from_shapely(geom)})
            return "created"
        return _update(stored, values, "geom", geom, save, options.actor)

    run_rows(ordered, handle, _code, report, progress)
    report.issues.sort(key=lambda issue: issue.row)
