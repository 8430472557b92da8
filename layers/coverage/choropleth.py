"""The coverage choropleth: share of the rooms seen in a window, per territory node, classed.

``choropleth(user, code, …)`` answers one GeoJSON FeatureCollection: the nodes of one level
(street offices, communities or zones) under ``code`` in the user's territory, each with its rooms,
rooms seen and share, its class and colour; the legend; the node itself with its path up the
territory; and the snapshot days the week-by-week replay can show.

The figures are sums over a few rows found by code prefix, never a scan of visits or rooms:
``CoverageCount`` for the last 7/30/90 days or ever, ``CoverageSnapshot`` for a past day (``at``),
``SweepCount`` for one sweep. The boundaries (simplified in PostGIS) are cached per level, node
and version of the territory and of the node's zones, so a request reads them once.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import re
import warnings
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gis.exceptions import InvalidInputError, NotFoundError
from gis.querysets import territory_prefixes
from grid import snapshots
from grid.coverage import DAY_WINDOWS, check_code, scope_condition, window_since
from grid.models import CoverageCount, CoverageSnapshotDay, Sweep, SweepCount

#: Territory levels by the length of their codes.
LEVELS = {"district": 6, "street_office": 9, "community": 12, "zone": 15}
LEVEL_OF = {length: name for name, length in LEVELS.items()}
#: The seeds' targets: below 85 % is a gap, 95 % is the aim.
TARGETS = (0.85, 0.95)
TARGET_COLOURS = ("#d7301f", "#fdae61", "#1a9850")
#: Natural breaks: a sequential palette, light (low coverage) to dark (high).
NATURAL_COLOURS = ("#fee5d9", "#fcae91", "#a1d99b", "#41ab5d", "#006d2c")
NO_DATA_COLOUR = "#bdbdbd"
SCHEMES = ("targets", "natural")
#: Douglas-Peucker tolerance (degrees) of the boundaries drawn per level.
TOLERANCE = {"district": 0.0004, "street_office": 0.0002, "community": 0.00005, "zone": 0.00002}
#: ``?at=``: ASCII digits only (``fromisoformat`` also takes 20261101 and week dates).
DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
#: How many weeks back the replay reaches.
REPLAY_WEEKS = 13
GEOMETRY_TIMEOUT_S = 24 * 3600


@dataclass
class Area:
    code: str
    name: str
    level: str
    geometry: bytes  # GeoJSON, WGS84
    bbox: tuple[float, float, float, float]
    rooms: int = 0
    seen: int = 0

    @property
    def share(self) -> float | None:
        return round(self.seen / self.rooms, 4) if self.rooms else None


# ---------------------------------------------------------------------------------------------
# Parameters


def parse_level(value: Any, code: str) -> str:
    """``?level=``: the level of the nodes drawn, at or below ``code`` (default: its children;
    a zone draws itself)."""
    if value in (None, ""):
        return LEVEL_OF[min(len(code) + 3, 15)]
    if value not in LEVELS or LEVELS[value] < len(code):
        raise InvalidInputError(
            gettext_lazy(
                "level is one of %(choices)s at or below the node %(node)s, not %(value)s."
            ),
            code="bad_level",
            field="level",
            choices=", ".join(name for name, n in LEVELS.items() if n >= len(code)),
            node=code,
            value=repr(value)[:30],
        )
    return str(value)


def parse_scheme(value: Any) -> str:
    if value in (None, ""):
        return "targets"
    if value not in SCHEMES:
        raise InvalidInputError(
            gettext_lazy("scheme is one of %(choices)s, not %(value)s."),
            code="bad_scheme",
            field="scheme",
            choices=", ".join(SCHEMES),
            value=repr(value)[:30],
        )
    return str(value)


def parse_at(value: Any, today: datetime.date | None = None) -> datetime.date | None:
    """``?at=YYYY-MM-DD``: a past day whose snapshot is taken, to show coverage as it was then."""
    if value in (None, ""):
        return None
    today = today or timezone.localdate()
    day = None
    if isinstance(value, str) and DAY_RE.fullmatch(value):
        with contextlib.suppress(ValueError):
            day = datetime.date.fromisoformat(value)
    if day is None:
        raise InvalidInputError(
            gettext_lazy("at is a date as YYYY-MM-DD, not %(value)s."),
            code="bad_at",
            field="at",
            value=repr(value)[:30],
        )
    if day >= today:
        raise InvalidInputError(
            gettext_lazy("at is a day before today (%(today)s): today's coverage is the live one."),
            code="bad_at",
            field="at",
            today=today.isoformat(),
        )
    if not CoverageSnapshotDay.objects.filter(day=day).exists():
        snapshots.queue_missing(today)
        raise InvalidInputError(
            gettext_lazy(
                "There is no snapshot of %(value)s: coverage as it was is kept for Sundays and "
                "months' last days (a missing one is being taken: try again in a few minutes)."
            ),
            code="no_snapshot",
            field="at",
            value=day.isoformat(),
        )
    return day


def visible_sweep(user: Any, value: Any) -> Sweep | None:
    """``?sweep=<id>``: a sweep the user can see."""
    if value in (None, ""):
        return None
    text = str(value)
    sweep = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        sweep = Sweep.objects.visible_to(user).filter(pk=int(text)).first()
    if sweep is None:
        raise NotFoundError(gettext_lazy("No sweep %(value)s in your territory."), value=text[:30])
    return sweep


# ---------------------------------------------------------------------------------------------
# Boundaries


_AREAS_VERSION_SQL = """
    SELECT (SELECT max(pgh_id) FROM geo_districtevent),
           (SELECT max(pgh_id) FROM geo_streetofficeevent),
           (SELECT max(pgh_id) FROM geo_communityevent),
           (SELECT count(*) FROM geo_community WHERE code LIKE %(community)s),
           count(*) FILTER (WHERE valid_to IS NULL), max(id), max(valid_to)
      FROM grid_zone WHERE community_code LIKE %(community)s
"""


def _areas_version(code: str) -> str:
    """Changes whenever a territory node is added or changed (their history events, written by
    triggers whatever wrote the row), a community under ``code`` goes, or a zone under it is
    added, replaced or retired. Edits of buildings, plates or streets leave it as it is."""
    with connection.cursor() as cursor:
        cursor.execute(_AREAS_VERSION_SQL, {"community": code[:12] + "%"})
        return ":".join(str(v) for v in cursor.fetchone())


_AREA_SQL = {
    "district": "SELECT code, name, geom FROM geo_district WHERE code LIKE %(prefix)s",
    "street_office": "SELECT code, name, geom FROM geo_streetoffice WHERE code LIKE %(prefix)s",
    "community": "SELECT code, name, geom FROM geo_community WHERE code LIKE %(prefix)s",
    # Current zones, and each community's part in no zone (its rooms are counted under the
    # community's code); empty parts drop out.
    "zone": """
        SELECT code, name, geom FROM grid_zone
         WHERE community_code LIKE %(community)s AND code LIKE %(prefix)s AND valid_to IS NULL
        UNION ALL
        SELECT c.code, c.name,
               COALESCE(ST_Difference(c.geom, (SELECT ST_Union(z.geom) FROM grid_zone z
                                          WHERE z.community_code = c.code AND z.valid_to IS NULL)),
                        c.geom)
          FROM geo_community c WHERE c.code LIKE %(prefix)s
    """,
}


def _areas(level: str, code: str) -> list[Area]:
    """The nodes of ``level`` under ``code`` with their simplified boundaries (cached)."""
    key = (
        "coverage-areas:"
        + hashlib.blake2b(
            f"{level}:{code}:{_areas_version(code)}".encode(),
            digest_size=12,
        ).hexdigest()
    )
    cached = cache.get(key)
    if cached is not None:
        return [Area(c, n, level, g, b) for c, n, g, b in cached]
    sql = f"""
        SELECT code, name, ST_AsGeoJSON(g, 6),
               ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g)
          FROM (SELECT code, name, ST_SimplifyPreserveTopology(geom, %(tolerance)s) AS g
                  FROM ({_AREA_SQL[level]}) a) s
         WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0
         ORDER BY code
    """  # noqa: S608 - the inner SELECT is one of the constants of _AREA_SQL
    params: dict[str, Any] = {
        "prefix": code + "%",
        "community": code[:12] + "%",
        "tolerance": TOLERANCE[level],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [
            (c, n, g.encode(), (round(x0, 6), round(y0, 6), round(x1, 6), round(y1, 6)))
            for c, n, g, x0, y0, x1, y1 in cursor.fetchall()
        ]
    cache.set(key, rows, GEOMETRY_TIMEOUT_S)
    return [Area(c, n, level, g, b) for c, n, g, b in rows]


def _in_scope(prefixes: list[str] | None, code: str) -> bool:
    return prefixes is None or any(code.startswith(p) or p.startswith(code) for p in prefixes)


# ---------------------------------------------------------------------------------------------
# Figures


def _group_key(level: str) -> Any:
    # Zones: rooms in a zone are counted under its code, the rest under the community's.
    return F("area_code") if level == "zone" else Substr("area_code", 1, LEVELS[level])


def _live_counts(
    scope: Q, code: str, level: str, days: int | None, rented: bool
) -> tuple[dict[str, tuple[int, int]], datetime.date | None]:
    rows: QuerySet[Any] = CoverageCount.objects.filter(scope, area_code__startswith=code)
    if rented:
        rows = rows.filter(rented=True)
    since = None
    if days is None:
        seen = Q(last_visited_on__isnull=False)
    else:
        since = window_since(days)
        seen = Q(last_visited_on__gte=since)
    grouped = (
        rows.annotate(key=_group_key(level))
        .values("key")
        .annotate(n_rooms=Sum("rooms"), n_seen=Sum("rooms", filter=seen))
    )
    return {r["key"]: (r["n_rooms"] or 0, r["n_seen"] or 0) for r in grouped}, since


def _snapshot_counts(
    scope: Q, code: str, level: str, days: int | None, rented: bool, at: datetime.date
) -> dict[str, tuple[int, int]]:
    rows: QuerySet[Any] = snapshots.snapshot_rows(at).filter(scope, area_code__startswith=code)
    if rented:
        rows = rows.filter(rented=True)
    column = "seen_ever" if days is None else f"seen_{days}"
    grouped = (
        rows.annotate(key=_group_key(level))
        .values("key")
        .annotate(n_rooms=Sum("rooms"), n_seen=Sum(column))
    )
    return {r["key"]: (r["n_rooms"] or 0, r["n_seen"] or 0) for r in grouped}


def _sweep_counts(scope: Q, code: str, level: str, sweep: Sweep) -> dict[str, tuple[int, int]]:
    rows = SweepCount.objects.filter(scope, sweep=sweep, area_code__startswith=code)
    grouped = (
        rows.annotate(key=_group_key(level))
        .values("key")
        .annotate(n_rooms=Sum("targets"), n_seen=Sum("visited"))
    )
    return {r["key"]: (r["n_rooms"] or 0, r["n_seen"] or 0) for r in grouped}


# ---------------------------------------------------------------------------------------------
# Classes


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def classify(shares: list[float | None], scheme: str) -> tuple[list[int | None], list[dict]]:
    """Class index of each share (None: no rooms) and the legend's classes (with counts)."""
    values = [s for s in shares if s is not None]
    if scheme == "targets":
        # Upper bounds are exclusive below 1: 0.85 is "85–95%", not "< 85%".
        bounds = [TARGETS[0] - 1e-9, TARGETS[1] - 1e-9, 1.0]
        colours = list(TARGET_COLOURS)
        labels = [
            f"< {_percent(TARGETS[0])}",
            f"{_percent(TARGETS[0])}–{_percent(TARGETS[1])}",
            f"≥ {_percent(TARGETS[1])}",
        ]
        lowers = [0.0, TARGETS[0], TARGETS[1]]
        uppers = [TARGETS[0], TARGETS[1], 1.0]
    else:
        distinct = sorted(set(values))
        k = min(len(NATURAL_COLOURS), len(distinct))
        if k >= 2:
            import mapclassify  # imported by web.wsgi at start-up; seconds when cold

            with warnings.catch_warnings():  # "Numba not installed": fine for a few hundred values
                warnings.simplefilter("ignore", UserWarning)
                breaks = mapclassify.FisherJenks(values, k=k)
            bounds = [float(b) for b in breaks.bins]
        else:
            bounds = [distinct[0]] if distinct else []
        colours = (
            list(NATURAL_COLOURS)
            if len(bounds) == len(NATURAL_COLOURS)
            else [
                NATURAL_COLOURS[round(i * 4 / max(1, len(bounds) - 1))] for i in range(len(bounds))
            ]
        )
        lowers = [min(values), *bounds[:-1]] if values else []
        uppers = list(bounds)
        labels = [
            _percent(lo) if lo == up else f"{_percent(lo)}–{_percent(up)}"
            for lo, up in zip(lowers, uppers, strict=True)
        ]
    classes_of: list[int | None] = []
    counts = [0] * len(bounds)
    for share in shares:
        if share is None:
            classes_of.append(None)
            continue
        index = next((i for i, b in enumerate(bounds) if share <= b), len(bounds) - 1)
        classes_of.append(index)
        counts[index] += 1
    legend = [
        {"label": label, "lower": lo, "upper": up, "colour": colour, "count": n}
        for label, lo, up, colour, n in zip(labels, lowers, uppers, colours, counts, strict=True)
    ]
    return classes_of, legend


# ---------------------------------------------------------------------------------------------
# The choropleth


def _node(code: str) -> tuple[str, list[dict[str, str]]]:
    """The node's name and its path from the district down (codes and names: the dashboard's
    breadcrumb)."""
    from .dashboard import breadcrumb  # the dashboard reads this module's levels

    path = [{"code": step["code"], "name": step["name"]} for step in breadcrumb(code)]
    return (path[-1]["name"] if path else ""), path


def replay_days(today: datetime.date | None = None) -> list[str]:
    """The Sundays of the last :data:`REPLAY_WEEKS` weeks whose snapshot is taken."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(weeks=REPLAY_WEEKS)
    return [d.isoformat() for d in snapshots.taken_days(since) if d.isoweekday() == 7]


def choropleth(
    user: Any,
    code: str,
    *,
    level: str | None = None,
    days: int | None = 30,
    sweep: Sweep | None = None,
    rented: bool = False,
    scheme: str = "targets",
    at: datetime.date | None = None,
) -> dict[str, Any]:
    """The choropleth of ``code``'s nodes of ``level`` for the user (see the module)."""
    check_code(code)
    level = parse_level(level, code)
    scheme = parse_scheme(scheme)
    if days is not None and days not in DAY_WINDOWS:
        raise InvalidInputError(
            gettext_lazy("days is one of 7, 30, 90 or all, not %(value)s."),
            code="bad_days",
            field="days",
            value=repr(days)[:20],
        )
    if sweep is not None and at is not None:
        raise InvalidInputError(
            gettext_lazy("Choose a sweep or a past day, not both."), code="sweep_and_at", field="at"
        )
    if sweep is not None and rented:
        raise InvalidInputError(
            gettext_lazy("A sweep counts its own target rooms: rented=1 does not apply to it."),
            code="sweep_and_rented",
            field="rented",
        )
    scope = scope_condition(user, code)
    name, path = _node(code)
    prefixes = territory_prefixes(user)
    areas = [a for a in _areas(level, code) if _in_scope(prefixes, a.code)]
    for area in areas:
        if level == "zone" and len(area.code) == 12:  # a community's rooms in no zone
            area.name = f"{area.name}（{_('no zone')}）"
    if not name and not areas:
        raise NotFoundError(gettext_lazy("No territory %(value)s in your scope."), value=code)
    since = None
    today = timezone.localdate()
    if sweep is not None:
        counts = _sweep_counts(scope, code, level, sweep)
    elif at is not None:
        counts = _snapshot_counts(scope, code, level, days, rented, at)
        if days is not None:
            since = window_since(days, at)
    else:
        counts, since = _live_counts(scope, code, level, days, rented)
    for area in areas:
        area.rooms, area.seen = counts.get(area.code, (0, 0))
    classes_of, legend = classify([a.share for a in areas], scheme)
    features = []
    for area, index in zip(areas, classes_of, strict=True):
        features.append(
            {
                "type": "Feature",
                "id": area.code,
                "geometry": orjson.Fragment(area.geometry),
                "properties": {
                    "code": area.code,
                    "name": area.name,
                    "level": area.level,
                    "rooms": area.rooms,
                    "seen": area.seen,
                    "share": area.share,
                    "class": index,
                    "colour": NO_DATA_COLOUR if index is None else legend[index]["colour"],
                },
            }
        )
    rooms = sum(a.rooms for a in areas)
    seen = sum(a.seen for a in areas)
    bbox = None
    if areas:
        bbox = [
            min(a.bbox[0] for a in areas),
            min(a.bbox[1] for a in areas),
            max(a.bbox[2] for a in areas),
            max(a.bbox[3] for a in areas),
        ]
    snapshots.queue_missing(today)
    return {
        "type": "FeatureCollection",
        "features": features,
        "legend": {
            "scheme": scheme,
            "title": _("Rented rooms seen") if rented else _("Rooms seen"),
            "classes": legend,
            "no_data": {"label": _("no rooms"), "colour": NO_DATA_COLOUR},
        },
        "node": {
            "code": code,
            "name": name,
            "level": LEVEL_OF[len(code)],
            "parent": path[-2]["code"] if len(path) > 1 else None,
            "path": path,
            "rooms": rooms,
            "seen": seen,
            "share": round(seen / rooms, 4) if rooms else None,
            "bbox": bbox,
        },
        "window": {
            "days": None if sweep is not None else days,
            "sweep": {"id": sweep.pk, "name": sweep.name} if sweep is not None else None,
            "rented": rented,
            "at": at.isoformat() if at else None,
            "since": since.isoformat() if since else None,
            "until": (at or today).isoformat(),
        },
        "level": level,
        "replay": replay_days(today),
    }
