"""Sweeps (清查): create one, manage its teams, edit its name and window, close it.

A sweep's area is given by community or zone codes, or drawn as a polygon. Its target rooms are
fixed when it is created (``SweepRoom``, one ``INSERT … SELECT``): the rooms of the buildings whose
``centroid`` lies in the area that match the target (all, rented, not visited for N days, flagged
for follow-up), each with the current zone its building lies in (else its community). The sweep
is scoped by ``territory_code``, the smallest territory node (community, street office or district)
holding every community of the area; writing to it needs write access to that node.

Planning (``grid.sweep_jobs``) and visits (``grid.visits``) build on what is made here.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.gis.db.models import Union
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import GeometryError, NotFoundError
from gis.geometry import clean_geometry
from gis.models import RENTED_USES, Building, Community, Room
from gis.querysets import Action, territory_prefixes
from gis.services import database_rules, require_write

from . import sql
from .exceptions import SweepClosedError, SweepError
from .models import Staff, Sweep, SweepTarget, SweepTeam, Zone

__all__ = [
    "add_team",
    "close_sweep",
    "create_sweep",
    "remove_team",
    "sweep_for",
    "team_fields",
    "team_for",
    "update_sweep",
    "update_team",
]

#: Longest name of a sweep (the model's max_length).
NAME_MAX = 100


# ---------------------------------------------------------------------------------------------
# Lookups


def sweep_for(user: Any, pk: Any, *, action: Action = Action.READ) -> Sweep:
    """The sweep ``pk`` as ``user`` may use it (``None``: the system, no territory limit):
    :class:`NotFoundError` when they cannot see it, :class:`ScopeError` when they may see it
    but ``action`` is a write they may not make."""
    is_id = isinstance(pk, int) or (isinstance(pk, str) and pk.isascii() and pk.isdigit())
    sweeps = Sweep.objects.all() if user is None else Sweep.objects.visible_to(user)
    sweep = sweeps.filter(pk=pk).first() if is_id else None
    if sweep is None:
        raise NotFoundError(_("No sweep %(value)s in your territory."), value=repr(pk)[:30])
    if action is Action.WRITE:
        require_write(user, sweep.territory_code)
    return sweep


def whole_sweep(user: Any, sweep: Sweep) -> bool:
    """Whether the user's territory holds the whole sweep. Users scoped below its node see their
    own part only: its stops, rooms and staff in their territory, and no route lines (a team's
    line runs through the other communities' buildings)."""
    prefixes = territory_prefixes(user)
    return prefixes is None or any(sweep.territory_code.startswith(p) for p in prefixes)


def team_for(sweep: Sweep, pk: Any) -> SweepTeam:
    """The team ``pk`` of ``sweep``; :class:`NotFoundError` for any other value."""
    is_id = isinstance(pk, int) and not isinstance(pk, bool)
    if isinstance(pk, str) and pk.isascii() and pk.isdigit():
        pk, is_id = int(pk), True
    team = sweep.teams.filter(pk=pk).first() if is_id else None
    if team is None:
        raise NotFoundError(
            _("Sweep %(sweep)s has no team %(value)s."),
            field="team",
            sweep=sweep.pk,
            value=repr(pk)[:30],
        )
    return team


def require_open(sweep: Sweep) -> None:
    """Refuse changes to a closed sweep (409)."""
    if sweep.closed_at is not None:
        raise SweepClosedError(
            _("Sweep “%(name)s” was closed on %(date)s: it cannot be changed any more."),
            name=sweep.name,
            date=timezone.localtime(sweep.closed_at).strftime("%Y-%m-%d"),
        )


# ---------------------------------------------------------------------------------------------
# Checks of the input


def _name(value: Any, field: str = "name", max_length: int = NAME_MAX) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_length:
        raise SweepError(
            _("The %(name)s must be a text of 1 to %(max)s characters, not %(value)s."),
            code="bad_name",
            field=field,
            name=field,
            max=max_length,
            value=repr(value)[:40],
        )
    return value.strip()


def _date(value: Any, field: str) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise SweepError(
        _("%(name)s must be a date as YYYY-MM-DD, not %(value)s."),
        code="bad_date",
        field=field,
        name=field,
        value=repr(value)[:30],
    )


def _window(starts_on: datetime.date, ends_on: datetime.date) -> None:
    if ends_on < starts_on:
        raise SweepError(
            _(
                "The sweep ends (%(ends)s) before it starts (%(starts)s): give an end date on or "
                "after the start date."
            ),
            code="window_reversed",
            field="ends_on",
            starts=starts_on.isoformat(),
            ends=ends_on.isoformat(),
        )


#: Above any sensible setting; also keeps integers within what a float holds (a 400-digit number
#: would overflow ``float()``).
NUMBER_MAX = 1e9


def _number(value: Any, field: str, *, minimum: float, integer: bool = False) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and minimum <= value <= NUMBER_MAX and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok:
        kind = _("a whole number") if integer else _("a number")
        raise SweepError(
            _("%(name)s must be %(kind)s of at least %(min)s, not %(value)s."),
            code="bad_number",
            field=field,
            name=field,
            kind=kind,
            min=minimum,
            value=repr(value)[:30],
        )
    return int(value) if integer else float(value)


def _point(value: Any, field: str) -> Point:
    try:
        return clean_geometry(value, geom_type="Point")
    except GeometryError as error:  # say which field it is about
        error.field = field
        raise


def _staff(user: Any, members: Any) -> list[Staff]:
    """The Staff rows ``members`` names (ids), each visible to ``user`` (``None``: the system)."""
    if not isinstance(members, list | tuple) or not all(
        isinstance(m, int) and not isinstance(m, bool) for m in members
    ):
        raise SweepError(
            _("members must be a list of staff ids, not %(value)s."),
            code="bad_members",
            field="members",
            value=repr(members)[:40],
        )
    wanted = set(members)
    visible = Staff.objects.all() if user is None else Staff.objects.visible_to(user)
    staff = list(visible.filter(pk__in=wanted))
    missing = sorted(wanted - {s.pk for s in staff})
    if missing:
        raise SweepError(
            _("No staff member %(value)s in your territory: give ids of staff you can see."),
            code="unknown_staff",
            field="members",
            value=", ".join(map(str, missing))[:60],
        )
    return staff


# ---------------------------------------------------------------------------------------------
# The area


def _area_from_codes(user: Any, codes: Any) -> tuple[MultiPolygon, list[str]]:
    """The union of the communities (12 digits) and current zones (15 digits) ``codes`` names,
    and the codes of their communities. An unknown code is a :class:`SweepError`; a place
    outside the user's write scope a :class:`ScopeError`."""
    if (
        not isinstance(codes, list | tuple)
        or not codes
        or not all(isinstance(c, str) and c.isascii() and c.isdigit() for c in codes)
    ):
        raise SweepError(
            _("area_codes must be a non-empty list of community or zone codes, not %(value)s."),
            code="bad_area_codes",
            field="area_codes",
            value=repr(codes)[:60],
        )
    community_codes = sorted({c for c in codes if len(c) == 12})
    zone_codes = sorted({c for c in codes if len(c) == 15})
    odd = [c for c in codes if len(c) not in (12, 15)]
    communities = Community.objects.filter(code__in=community_codes)
    zones = Zone.objects.current().filter(code__in=zone_codes)
    found = set(communities.values_list("code", flat=True)) | set(
        zones.values_list("code", flat=True)
    )
    unknown = odd + [c for c in [*community_codes, *zone_codes] if c not in found]
    if unknown:
        raise SweepError(
            _(
                "No community or current zone has the code %(value)s: give 12-digit community "
                "or 15-digit zone codes."
            ),
            code="unknown_area_code",
            field="area_codes",
            value=", ".join(unknown)[:80],
        )
    owners = sorted({*community_codes, *(c[:12] for c in zone_codes)})
    for code in owners:
        require_write(user, code)
    parts = [
        geom
        for geom in (
            communities.aggregate(u=Union("geom"))["u"],
            zones.aggregate(u=Union("geom"))["u"],
        )
        if geom is not None
    ]
    area = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return _multi(area), [*community_codes, *zone_codes]


def _multi(geom: GEOSGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if geom.geom_type == "Polygon":
        return MultiPolygon(geom, srid=geom.srid)
    polygons = [g for g in geom if g.geom_type == "Polygon"]  # type: ignore[attr-defined]
    return MultiPolygon(*polygons, srid=geom.srid)


def _drawn_area(area: Any) -> MultiPolygon:
    """A drawn polygon, checked (valid, not empty, 2D, EPSG:4326 or a named accepted CRS)."""
    try:
        return clean_geometry(area, geom_type="MultiPolygon")
    except GeometryError as error:
        error.field = "area"
        raise


def territory_of(community_codes: Iterable[str]) -> str:
    """The smallest territory node holding every community of ``community_codes``: the
    community itself, their street office (9 digits) or their district (6 digits)."""
    codes = sorted(set(community_codes))
    for digits in (12, 9, 6):
        if len({code[:digits] for code in codes}) == 1:
            return codes[0][:digits]
    raise SweepError(
        _(
            "The area spans more than one district (%(value)s): a sweep stays within one "
            "district; make one sweep per district."
        ),
        code="area_spans_districts",
        field="area",
        value=", ".join(sorted({c[:6] for c in codes})),
    )


# ---------------------------------------------------------------------------------------------
# The target rooms


def target_rooms(
    area: MultiPolygon, target: str, *, not_visited_days: int | None, today: datetime.date
) -> QuerySet[Room]:
    """The rooms of the buildings whose centroid lies in ``area`` that match ``target``,
    annotated with ``room_ref``, ``building_ref`` and ``area_ref`` (the current zone holding the
    building's centroid, else its community) for :func:`grid.sql.insert_sweep_rooms`."""
    rooms = Room.objects.filter(building__centroid__intersects=area)
    if target == SweepTarget.RENTED:
        rooms = rooms.filter(use__in=RENTED_USES)
    elif target == SweepTarget.NOT_VISITED:
        cutoff = today - datetime.timedelta(days=not_visited_days or 0)
        # Seen: the last conclusive visit (not "not at home" or "refused"), grid.coverage's key.
        rooms = rooms.filter(
            Q(visit_state__isnull=True)
            | Q(visit_state__last_seen_on__isnull=True)
            | Q(visit_state__last_seen_on__lt=cutoff)
        )
    elif target == SweepTarget.FOLLOW_UP:
        rooms = rooms.filter(
            Q(visit_state__flagged=True) | Q(visit_state__revisit_after__isnull=False)
        )
    zone = (
        Zone.objects.current()
        .filter(geom__intersects=OuterRef("building__centroid"))
        .order_by("code")
        .values("code")[:1]
    )
    return rooms.annotate(
        room_ref=F("pk"),
        building_ref=F("building_id"),
        area_ref=Coalesce(Subquery(zone), F("building__community__code")),
    )


# ---------------------------------------------------------------------------------------------
# Create, edit, close


def _target(target: Any, not_visited_days: Any) -> tuple[str, int | None]:
    if target not in SweepTarget.values:
        raise SweepError(
            _("Unknown target %(value)s: use one of %(allowed)s."),
            code="bad_target",
            field="target",
            value=repr(target)[:30],
            allowed=", ".join(SweepTarget.values),
        )
    if target != SweepTarget.NOT_VISITED:
        return target, None
    if not_visited_days is None:
        raise SweepError(
            _("The target “not visited for N days” needs not_visited_days (N, at least 1)."),
            code="bad_not_visited_days",
            field="not_visited_days",
        )
    days = _number(not_visited_days, "not_visited_days", minimum=1, integer=True)
    if days > 32767:
        raise SweepError(
            _("not_visited_days must be at most 32767, not %(value)s."),
            code="bad_not_visited_days",
            field="not_visited_days",
            value=days,
        )
    return target, days


@transaction.atomic
def create_sweep(
    user: Any,
    *,
    name: str,
    starts_on: datetime.date | str,
    ends_on: datetime.date | str,
    target: str = SweepTarget.ALL,
    not_visited_days: int | None = None,
    area_codes: Sequence[str] | None = None,
    area: Any = None,
    minutes_per_room: float = 6.0,
    walking_speed_m_per_min: float = 70.0,
    day_minutes: int = 360,
    revisit_attempts: int = 3,
    far_visit_m: float = 150.0,
    teams: Sequence[Mapping[str, Any]] = (),
) -> Sweep:
    """Create a sweep of the area given by ``area_codes`` (communities, zones) or ``area`` (a
    drawn polygon, GEOS or GeoJSON), fix its target rooms and add its ``teams`` (each
    ``{"name", "members": [staff ids], "start": Point, "start_name"}``).

    Raises :class:`SweepError` (400) for bad input — both or neither of ``area_codes`` and
    ``area``, an unknown code, an invalid polygon, a reversed window, no teams, no target
    room —, :class:`ScopeError` (403) for an area outside the user's write scope. Nothing is
    written when it raises.
    """
    name = _name(name)
    start, end = _date(starts_on, "starts_on"), _date(ends_on, "ends_on")
    _window(start, end)
    target, days = _target(target, not_visited_days)
    options = {
        "minutes_per_room": _number(minutes_per_room, "minutes_per_room", minimum=0.1),
        "walking_speed_m_per_min": _number(
            walking_speed_m_per_min, "walking_speed_m_per_min", minimum=1
        ),
        "day_minutes": _number(day_minutes, "day_minutes", minimum=30, integer=True),
        "revisit_attempts": _number(revisit_attempts, "revisit_attempts", minimum=1, integer=True),
        "far_visit_m": _number(far_visit_m, "far_visit_m", minimum=1),
    }
    if options["day_minutes"] > 1440 or options["revisit_attempts"] > 100:
        raise SweepError(
            _("day_minutes is at most 1440 and revisit_attempts at most 100."),
            code="bad_number",
            field="day_minutes" if options["day_minutes"] > 1440 else "revisit_attempts",
        )
    if (area_codes is None) == (area is None):
        raise SweepError(
            _("Give the area either as area_codes (communities or zones) or as a drawn area."),
            code="area_codes_or_area",
            field="area",
        )
    if not isinstance(teams, list | tuple) or not teams:
        raise SweepError(
            _("A sweep needs at least one team, each with a start point."),
            code="no_teams",
            field="teams",
        )
    if area_codes is not None:
        geom, codes = _area_from_codes(user, area_codes)
        communities = {c[:12] for c in codes}
    else:
        geom, codes = _drawn_area(area), []
        communities = set(
            Building.objects.filter(centroid__intersects=geom).values_list(
                "community__code", flat=True
            )
        )
        for code in sorted(communities):
            require_write(user, code)
    if not communities:
        raise _no_rooms(target)
    with database_rules():
        sweep = Sweep.objects.create(
            name=name,
            territory_code=territory_of(communities),
            area=geom,
            area_codes=codes,
            starts_on=start,
            ends_on=end,
            target=target,
            not_visited_days=days,
            created_by=user if getattr(user, "pk", None) else None,
            **options,
        )
    rooms = target_rooms(geom, target, not_visited_days=days, today=timezone.localdate())
    if not sql.insert_sweep_rooms(sweep.pk, rooms):
        raise _no_rooms(target)
    seen: set[str] = set()
    for team in teams:
        if not isinstance(team, Mapping):
            raise SweepError(
                _("Each team is an object with name, members and start, not %(value)s."),
                code="bad_team",
                field="teams",
                value=repr(team)[:40],
            )
        added = _add_team(user, sweep, **team_fields(team))
        if added.name in seen:
            raise _duplicate_team(added.name)
        seen.add(added.name)
    _rebuild_counts(sweep)
    return sweep


def _no_rooms(target: str) -> SweepError:
    return SweepError(
        _(
            "The area holds no target room (%(target)s): draw a larger area, choose other "
            "communities or zones, or another target."
        ),
        code="no_rooms",
        field="area",
        target=SweepTarget(target).label,
    )


def _duplicate_team(name: str) -> SweepError:
    return SweepError(
        _("Two teams are named %(value)s: give each team of a sweep its own name."),
        code="duplicate_team",
        field="name",
        value=name,
    )


def team_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - {"name", "members", "start", "start_name"}
    if unknown:
        raise SweepError(
            _("Unknown team field %(value)s: give name, members, start and start_name."),
            code="bad_team",
            field="teams",
            value=", ".join(sorted(map(str, unknown)))[:60],
        )
    return {
        "name": data.get("name"),
        "members": data.get("members", []),
        "start": data.get("start"),
        "start_name": data.get("start_name", ""),
    }


def _rebuild_counts(sweep: Sweep) -> None:
    from .coverage import rebuild_sweep_counts

    rebuild_sweep_counts(sweep)


@transaction.atomic
def update_sweep(
    user: Any,
    sweep: Sweep,
    *,
    name: str | None = None,
    starts_on: datetime.date | str | None = None,
    ends_on: datetime.date | str | None = None,
) -> Sweep:
    """Rename the sweep or move its window; a reversed window is a :class:`SweepError`."""
    sweep = _locked(user, sweep)
    if name is not None:
        sweep.name = _name(name)
    if starts_on is not None:
        sweep.starts_on = _date(starts_on, "starts_on")
    if ends_on is not None:
        sweep.ends_on = _date(ends_on, "ends_on")
    _window(sweep.starts_on, sweep.ends_on)
    with database_rules():
        sweep.save(update_fields=["name", "starts_on", "ends_on"])
    return sweep


@transaction.atomic
def close_sweep(user: Any, sweep: Sweep) -> Sweep:
    """Close the sweep: it no longer changes (visits may still name it). Closing twice is a
    :class:`SweepClosedError`."""
    sweep = _locked(user, sweep)
    sweep.closed_at = timezone.now()
    sweep.save(update_fields=["closed_at"])
    return sweep


def _locked(user: Any, sweep: Sweep) -> Sweep:
    """The sweep row locked for the change, after the scope and open checks."""
    sweep = sweep_for(user, sweep.pk, action=Action.WRITE)
    sweep = Sweep.objects.select_for_update(no_key=True).get(pk=sweep.pk)
    require_open(sweep)
    return sweep


# ---------------------------------------------------------------------------------------------
# Teams


def _add_team(
    user: Any, sweep: Sweep, *, name: Any, members: Any, start: Any, start_name: Any
) -> SweepTeam:
    team_name = _name(name, "name", 50)
    point = _point(start, "start")
    if not isinstance(start_name, str) or len(start_name) > 100:
        raise SweepError(
            _("start_name must be a text of at most 100 characters."),
            code="bad_name",
            field="start_name",
        )
    staff = _staff(user, members)
    if sweep.teams.filter(name=team_name).exists():
        raise _duplicate_team(team_name)
    team = SweepTeam.objects.create(sweep=sweep, name=team_name, start=point, start_name=start_name)
    team.members.set(staff)
    return team


@transaction.atomic
def add_team(
    user: Any,
    sweep: Sweep,
    *,
    name: str,
    members: Sequence[int] = (),
    start: Any,
    start_name: str = "",
) -> SweepTeam:
    """Add a team with its members (staff ids the user can see) and start point (EPSG:4326).
    It gets buildings at the next planning job (plan, re-plan or re-balance)."""
    sweep = _locked(user, sweep)
    return _add_team(
        user, sweep, name=name, members=list(members), start=start, start_name=start_name
    )


@transaction.atomic
def update_team(user: Any, team: SweepTeam, changes: Mapping[str, Any]) -> SweepTeam:
    """Change a team's ``name``, ``members``, ``start`` or ``start_name`` (only those given in
    ``changes``; any other key is refused). A new start point counts from the next plan version."""
    _locked(user, team.sweep)
    team = SweepTeam.objects.select_for_update(no_key=True).get(pk=team.pk)
    unknown = set(changes) - {"name", "members", "start", "start_name"}
    if unknown:
        raise SweepError(
            _("Unknown team field %(value)s: give name, members, start and start_name."),
            code="bad_team",
            field="teams",
            value=", ".join(sorted(unknown))[:60],
        )
    if "name" in changes:
        team.name = _name(changes["name"], "name", 50)
        if team.sweep.teams.filter(name=team.name).exclude(pk=team.pk).exists():
            raise _duplicate_team(team.name)
    if "start" in changes:
        team.start = _point(changes["start"], "start")
    if "start_name" in changes:
        value = changes["start_name"]
        if not isinstance(value, str) or len(value) > 100:
            raise SweepError(
                _("start_name must be a text of at most 100 characters."),
                code="bad_name",
                field="start_name",
            )
        team.start_name = value
    staff = _staff(user, changes["members"]) if "members" in changes else None
    team.save()
    if staff is not None:
        team.members.set(staff)
    return team


@transaction.atomic
def remove_team(user: Any, team: SweepTeam) -> None:
    """Remove a team that is in no plan version yet (versions never change, and a team's stops
    are part of them): once planned, a team stays; re-plan to give its buildings to others only
    by editing the plan by hand."""
    sweep = _locked(user, team.sweep)
    if team.stops.exists() or team.days.exists():
        raise SweepError(
            _(
                "Team %(value)s is part of a plan version of this sweep and cannot be removed: "
                "move its buildings to other teams instead (a plan edit)."
            ),
            code="team_planned",
            field="team",
            value=team.name,
        )
    if sweep.teams.count() == 1:
        raise SweepError(
            _("A sweep needs at least one team: add another before removing %(value)s."),
            code="no_teams",
            field="team",
            value=team.name,
        )
    team.delete()
