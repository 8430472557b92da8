"""Responsibility zones (the second of "two maps"), staff and the responsibility chain.

A zone lies inside one community and carries a code that extends the community's: 12 digits and a
3-digit sequence. Zones are versioned: a re-split retires the old rows (``valid_to`` set) and adds
new ones, so history survives and a code can be reused by the zone that replaces it; only current
zones (``valid_to`` null) must have unique codes. Geometry is stored in EPSG:4326; areas are
measured in ``settings.METRIC_SRID`` by the services.
"""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import OpClass
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.models import (
    SRID,
    Building,
    Community,
    Compound,
    Room,
    _digits,
    _history,
    _valid_geometry,
)
from gis.progress import JobProgress

from . import querysets


class ZoneKind(models.TextChoices):
    RESIDENT_GROUP = "resident_group", _("resident group")
    COMPOUND_OR_MARKET = "compound_or_market", _("compound or market")
    EMPLOYER = "employer", _("employer")


@pghistory.track(*_history())
class Zone(models.Model):
    objects = querysets.ZoneQuerySet.as_manager()

    community = models.ForeignKey(
        Community,
        models.PROTECT,
        to_field="code",
        db_column="community_code",
        related_name="zones",
        verbose_name=_("community"),
    )
    code = models.CharField(_("code"), max_length=15)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ZoneKind.choices, default=ZoneKind.RESIDENT_GROUP
    )
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)
    version = models.PositiveIntegerField(_("version"), default=1)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("responsibility zone")
        verbose_name_plural = _("responsibility zones")
        ordering = ["code", "-version"]
        constraints = [
            _digits("code", 15, "zone_code_15_digits"),
            models.CheckConstraint(
                condition=Q(code__startswith=F("community_id")), name="zone_code_extends_community"
            ),
            models.UniqueConstraint(
                fields=["code"], condition=Q(valid_to__isnull=True), name="zone_code_current_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="zone_valid_to_after_valid_from",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="zone_version_positive"),
            *_valid_geometry("geom", "zone_geom"),
        ]
        # ``geom`` has its GiST index from GeoDjango (spatial_index=True).
        indexes = [models.Index(fields=["community", "valid_to"], name="zone_community_current")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@pghistory.track(*_history())
class Staff(models.Model):
    """A member of the community's grid staff or a volunteer of the chain."""

    objects = querysets.StaffQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=50)
    # Shown masked (gis.masking.mask_phone); the full number only to services that need it.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="staff", verbose_name=_("community")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="grid_staff",
        verbose_name=_("user account"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["community", "name"]

    def __str__(self) -> str:
        return self.name


class AssignmentRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("responsible person")
    COORDINATOR = "coordinator", _("coordinator")
    INFORMATION_OFFICER = "information_officer", _("information officer")
    BUILDING_HEAD = "building_head", _("building head")
    CENTRAL_HOUSEHOLD_HEAD = "central_household_head", _("central household head")
    YARD_PROPAGANDIST = "yard_propagandist", _("yard propagandist")


#: Roles held for one zone (the chain 责任人 → 协管员 → 信息员).
ZONE_ROLES = (
    AssignmentRole.RESPONSIBLE,
    AssignmentRole.COORDINATOR,
    AssignmentRole.INFORMATION_OFFICER,
)


@pghistory.track(*_history())
class Assignment(models.Model):
    objects = querysets.AssignmentQuerySet.as_manager()

    staff = models.ForeignKey(
        Staff, models.CASCADE, related_name="assignments", verbose_name=_("staff member")
    )
    zone = models.ForeignKey(
        Zone,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("responsibility zone"),
    )
    building = models.ForeignKey(
        Building,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="grid_assignments",
        verbose_name=_("building"),
    )
    role = models.CharField(_("role"), max_length=30, choices=AssignmentRole.choices)
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["staff", "role", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=AssignmentRole.BUILDING_HEAD) | Q(building__isnull=False),
                name="assignment_building_head_has_building",
            ),
            models.CheckConstraint(
                condition=Q(role=AssignmentRole.BUILDING_HEAD) | Q(building__isnull=True),
                name="assignment_building_only_for_building_head",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=ZONE_ROLES) | Q(zone__isnull=False),
                name="assignment_zone_role_has_zone",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["role", "ends_on"], name="assignment_role_ends")]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_role_display()}"


class WorkloadMeasure(models.TextChoices):
    ROOMS = "rooms", _("rooms")
    HOUSEHOLDS = "households", _("households (lived-in dwelling rooms)")
    BUILDINGS = "buildings", _("buildings")


class PartitionJob(JobProgress):
    """An automatic partition of a community (or of one compound in it) into proposed zones,
    computed in the background (``grid.jobs``) and applied, or not, by a user afterwards."""

    objects = querysets.PartitionJobQuerySet.as_manager()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    community = models.ForeignKey(
        Community,
        models.CASCADE,
        to_field="code",
        db_column="community_code",
        related_name="partition_jobs",
        verbose_name=_("community"),
    )
    compound = models.ForeignKey(
        Compound,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="partition_jobs",
        verbose_name=_("compound"),
    )
    # Either a number of zones or a workload per zone.
    zones = models.PositiveIntegerField(_("zones"), null=True, blank=True)
    target_workload = models.FloatField(_("workload per zone"), null=True, blank=True)
    workload = models.CharField(
        _("workload measure"),
        max_length=20,
        choices=WorkloadMeasure.choices,
        default=WorkloadMeasure.ROOMS,
    )
    # {"zones": FeatureCollection (EPSG:4326) of the proposed zones, "report": {...}}.
    result = models.JSONField(_("result"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="partition_jobs",
        verbose_name=_("submitted by"),
    )
    # Submitted by the command line without a user: runs without a territory limit.
    system = models.BooleanField(default=False)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="applied_partition_jobs",
        verbose_name=_("applied by"),
    )

    class Meta:
        verbose_name = _("partition job")
        verbose_name_plural = _("partition jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(zones__isnull=False, target_workload__isnull=True)
                | Q(zones__isnull=True, target_workload__isnull=False),
                name="partition_job_zones_or_target",
            ),
            models.CheckConstraint(
                condition=Q(zones__isnull=True) | Q(zones__gte=1), name="partition_job_zones_ge_1"
            ),
            models.CheckConstraint(
                condition=Q(target_workload__isnull=True) | Q(target_workload__gt=0),
                name="partition_job_target_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} · {self.get_status_display()}"


# --- Sweeps (清查), their plans and visits -------------------------------------------------------


class SweepTarget(models.TextChoices):
    ALL = "all", _("all rooms")
    RENTED = "rented", _("rented rooms only")
    NOT_VISITED = "not_visited", _("rooms not visited for N days")
    FOLLOW_UP = "follow_up", _("rooms flagged for follow-up")


class Sweep(models.Model):
    """A campaign that visits every target room of an area within a window
    (不漏楼、楼不漏户、户不漏人).

    The area is a set of communities or zones, or a drawn polygon; ``area`` holds its outline and
    ``territory_code`` the smallest territory node (community, street office or district) that
    holds it, which scopes the sweep. The target rooms are fixed when the sweep is created
    (:class:`SweepRoom`), so "coverage of this sweep" has a stable denominator.
    """

    objects = querysets.SweepQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=100)
    territory_code = models.CharField(_("territory code"), max_length=12)
    area = models.MultiPolygonField(_("area"), srid=SRID)
    # The codes the area was given by (communities or zones); empty for a drawn polygon.
    area_codes = ArrayField(
        models.CharField(max_length=15), verbose_name=_("area codes"), default=list, blank=True
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    target = models.CharField(
        _("target"), max_length=20, choices=SweepTarget.choices, default=SweepTarget.ALL
    )
    # For SweepTarget.NOT_VISITED: rooms whose last visit is older than this many days (or never).
    not_visited_days = models.PositiveSmallIntegerField(
        _("not visited for (days)"), null=True, blank=True
    )
    minutes_per_room = models.FloatField(_("minutes per room"), default=6.0)
    walking_speed_m_per_min = models.FloatField(_("walking speed (m/min)"), default=70.0)
    day_minutes = models.PositiveSmallIntegerField(_("working minutes per day"), default=360)
    # "Not at home" this many times in a row flags the room for the responsible person.
    revisit_attempts = models.PositiveSmallIntegerField(
        _("failed attempts before flagging"), default=3
    )
    # A visit recorded farther than this from its building is flagged (not refused).
    far_visit_m = models.FloatField(_("flag visits farther than (m)"), default=150.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="sweeps",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sweep")
        verbose_name_plural = _("sweeps")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(territory_code__regex=r"^(\d{6}|\d{9}|\d{12})$"),
                name="sweep_territory_code_node",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="sweep_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(target=SweepTarget.NOT_VISITED) | Q(not_visited_days__gte=1),
                name="sweep_not_visited_has_days",
            ),
            models.CheckConstraint(
                condition=Q(minutes_per_room__gt=0), name="sweep_minutes_per_room_positive"
            ),
            models.CheckConstraint(
                condition=Q(walking_speed_m_per_min__gt=0), name="sweep_speed_positive"
            ),
            models.CheckConstraint(condition=Q(day_minutes__gte=30), name="sweep_day_minutes_min"),
            models.CheckConstraint(
                condition=Q(revisit_attempts__gte=1), name="sweep_revisit_attempts_positive"
            ),
            models.CheckConstraint(condition=Q(far_visit_m__gt=0), name="sweep_far_visit_positive"),
            *_valid_geometry("area", "sweep_area"),
        ]
        indexes = [models.Index(fields=["territory_code"], name="sweep_territory")]

    def __str__(self) -> str:
        return self.name


class SweepTeam(models.Model):
    """A team of a sweep, with its members and the point (service station) its walks start from."""

    objects = querysets.SweepTeamQuerySet.as_manager()

    sweep = models.ForeignKey(Sweep, models.CASCADE, related_name="teams", verbose_name=_("sweep"))
    name = models.CharField(_("name"), max_length=50)
    members = models.ManyToManyField(
        Staff, related_name="sweep_teams", blank=True, verbose_name=_("members")
    )
    start = models.PointField(_("start point"), srid=SRID)
    start_name = models.CharField(_("start point name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("sweep team")
        verbose_name_plural = _("sweep teams")
        ordering = ["sweep", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "name"], name="sweep_team_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class SweepRoom(models.Model):
    """One target room of a sweep, fixed when the sweep is created, with where it stands."""

    objects = querysets.SweepRoomQuerySet.as_manager()

    sweep = models.ForeignKey(Sweep, models.CASCADE, related_name="rooms", verbose_name=_("sweep"))
    room = models.ForeignKey(
        Room, models.CASCADE, related_name="sweep_targets", verbose_name=_("room")
    )
    building = models.ForeignKey(
        Building, models.CASCADE, related_name="sweep_targets", verbose_name=_("building")
    )
    # The zone (15 digits) the building lay in when the sweep was created, else its community.
    area_code = models.CharField(_("zone or community"), max_length=15)
    first_visited_at = models.DateTimeField(_("first visited at"), null=True, blank=True)
    last_outcome = models.CharField(_("last outcome"), max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(_("visits"), default=0)

    class Meta:
        verbose_name = _("sweep target room")
        verbose_name_plural = _("sweep target rooms")
        constraints = [models.UniqueConstraint(fields=["sweep", "room"], name="sweep_room_unique")]
        indexes = [
            models.Index(fields=["sweep", "building"], name="sweep_room_building"),
            models.Index(fields=["sweep", "area_code"], name="sweep_room_area"),
        ]


class PlanReason(models.TextChoices):
    PLANNED = "planned", _("planned")
    REBALANCED = "rebalanced", _("re-balanced")
    EDITED = "edited", _("edited by hand")
    REPLANNED = "replanned", _("re-planned")


class SweepPlan(models.Model):
    """One version of a sweep's plan: which team visits which building, in which order and on
    which day. Versions are never changed; an edit or a re-plan adds the next version, and the
    highest version is the plan in force."""

    objects = querysets.SweepPlanQuerySet.as_manager()

    sweep = models.ForeignKey(Sweep, models.CASCADE, related_name="plans", verbose_name=_("sweep"))
    version = models.PositiveIntegerField(_("version"))
    reason = models.CharField(_("reason"), max_length=20, choices=PlanReason.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="sweep_plans",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Figures of the plan as planned: balance, walking km, fallback share, per-team totals.
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("sweep plan")
        verbose_name_plural = _("sweep plans")
        ordering = ["sweep", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "version"], name="sweep_plan_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="sweep_plan_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sweep} v{self.version}"


class PlanStop(models.Model):
    """A building in a team's walk: its place in the route, its day, and what it costs."""

    plan = models.ForeignKey(
        SweepPlan, models.CASCADE, related_name="stops", verbose_name=_("plan")
    )
    team = models.ForeignKey(
        SweepTeam, models.CASCADE, related_name="stops", verbose_name=_("team")
    )
    building = models.ForeignKey(
        Building, models.CASCADE, related_name="plan_stops", verbose_name=_("building")
    )
    day = models.PositiveSmallIntegerField(_("day"))
    # Order in the team's whole route (1, 2, …), across days.
    seq = models.PositiveIntegerField(_("order"))
    rooms = models.PositiveIntegerField(_("rooms to visit"))
    # Walking metres from the previous stop: the team's start point for its first stop; a day
    # goes on from where the day before ended (the walk is one open path cut into days).
    walk_m = models.FloatField(_("walk (m)"))
    work_min = models.FloatField(_("work (min)"))

    class Meta:
        verbose_name = _("plan stop")
        verbose_name_plural = _("plan stops")
        ordering = ["plan", "team", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "building"], name="plan_stop_building_unique"),
            models.UniqueConstraint(fields=["plan", "team", "seq"], name="plan_stop_seq_unique"),
            models.CheckConstraint(condition=Q(day__gte=1), name="plan_stop_day_positive"),
        ]


class PlanDay(models.Model):
    """A team's day in a plan: its totals and the route line walked (following the streets)."""

    plan = models.ForeignKey(SweepPlan, models.CASCADE, related_name="days", verbose_name=_("plan"))
    team = models.ForeignKey(SweepTeam, models.CASCADE, related_name="days", verbose_name=_("team"))
    day = models.PositiveSmallIntegerField(_("day"))
    stops = models.PositiveIntegerField(_("stops"))
    rooms = models.PositiveIntegerField(_("rooms to visit"))
    walk_m = models.FloatField(_("walk (m)"))
    work_min = models.FloatField(_("work (min)"))
    route = models.LineStringField(_("route"), srid=SRID, null=True, blank=True)

    class Meta:
        verbose_name = _("plan day")
        verbose_name_plural = _("plan days")
        ordering = ["plan", "team", "day"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "team", "day"], name="plan_day_unique"),
            models.CheckConstraint(condition=Q(day__gte=1), name="plan_day_positive"),
        ]


class PlanKind(models.TextChoices):
    PLAN = "plan", _("plan")
    REBALANCE = "rebalance", _("re-balance")
    REPLAN = "replan", _("re-plan")


class SweepPlanJob(JobProgress):
    """Planning a sweep in the background (``grid.jobs``): the result is a new :class:`SweepPlan`."""

    objects = querysets.SweepPlanJobQuerySet.as_manager()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sweep = models.ForeignKey(
        Sweep, models.CASCADE, related_name="plan_jobs", verbose_name=_("sweep")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PlanKind.choices)
    plan = models.ForeignKey(
        SweepPlan,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="sweep_plan_jobs",
        verbose_name=_("submitted by"),
    )

    class Meta:
        verbose_name = _("sweep planning job")
        verbose_name_plural = _("sweep planning jobs")
        ordering = ["-created_at"]


class VisitOutcome(models.TextChoices):
    REGISTERED = "registered", _("seen and registered")
    CHANGED = "changed", _("changes recorded")
    MOVED_OUT = "moved_out", _("moved out")
    VACANT = "vacant", _("vacant confirmed")
    NOT_AT_HOME = "not_at_home", _("not at home (revisit)")
    REFUSED = "refused", _("refused")
    ROOM_GONE = "room_gone", _("room no longer exists")
    NEW_ROOM = "new_room", _("new room found")


#: Outcomes that leave the room to be visited again.
FAILED_OUTCOMES = (VisitOutcome.NOT_AT_HOME, VisitOutcome.REFUSED)


class Visit(models.Model):
    """A visit to a room, recorded by field staff (often from a phone, often offline first).

    The primary key is generated by the client, so a retried or replayed submission finds its
    own row instead of adding a second one. Visits are never deleted with the register: a room or
    building that goes keeps its visits (``room``/``building`` set null; ``community_code`` and
    ``address`` keep where it was)."""

    objects = querysets.VisitQuerySet.as_manager()

    id = models.UUIDField(primary_key=True, editable=False)
    room = models.ForeignKey(
        Room, models.SET_NULL, null=True, blank=True, related_name="visits", verbose_name=_("room")
    )
    building = models.ForeignKey(
        Building,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("building"),
    )
    community_code = models.CharField(_("community code"), max_length=12)
    address = models.CharField(_("address"), max_length=300, blank=True)
    sweep = models.ForeignKey(
        Sweep,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("sweep"),
    )
    staff = models.ForeignKey(
        Staff, models.PROTECT, null=True, blank=True, related_name="visits", verbose_name=_("staff")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("recorded by"),
    )
    visited_at = models.DateTimeField(_("visited at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=20, choices=VisitOutcome.choices)
    location = models.PointField(_("GPS position"), srid=SRID, null=True, blank=True)
    # Metres from the building's footprint; far = beyond the sweep's (or the default) limit.
    distance_m = models.FloatField(_("distance from the building (m)"), null=True, blank=True)
    far = models.BooleanField(_("far from the building"), default=False)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    # NEW_ROOM: the number of the room found (the register adds it after checking).
    new_room_number = models.CharField(_("new room number"), max_length=20, blank=True)
    # Another visit to the same room within the same minute gave a different outcome: both kept.
    conflict = models.BooleanField(_("conflicting visit"), default=False)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(community_code__regex=r"^\d{12}$"), name="visit_community_code_12"
            ),
        ]
        indexes = [
            models.Index(fields=["room", "visited_at"], name="visit_room_time"),
            models.Index(fields=["sweep", "visited_at"], name="visit_sweep_time"),
            models.Index(fields=["community_code", "visited_at"], name="visit_community_time"),
            models.Index(fields=["staff", "visited_at"], name="visit_staff_time"),
        ]

    def __str__(self) -> str:
        return f"{self.address or self.room_id} · {self.get_outcome_display()}"


class DayPart(models.TextChoices):
    MORNING = "morning", _("morning")
    AFTERNOON = "afternoon", _("afternoon")
    EVENING = "evening", _("evening")


class RoomVisitState(models.Model):
    """What the visits say about one room now: kept up to date as each visit arrives, so that
    revisits, flags and coverage are reads of one row per room, never a scan of the visits."""

    room = models.OneToOneField(
        Room,
        models.CASCADE,
        primary_key=True,
        related_name="visit_state",
        verbose_name=_("room"),
    )
    last_visited_at = models.DateTimeField(_("last visited at"))
    # The local (settings.TIME_ZONE) date of last_visited_at: the coverage histogram's key.
    last_visited_on = models.DateField(_("last visited on"))
    last_outcome = models.CharField(_("last outcome"), max_length=20, choices=VisitOutcome.choices)
    # The local date of the last conclusive visit (any outcome but FAILED_OUTCOMES): the key of
    # CoverageCount, kept by the triggers of migration 0004; null while the room was never seen.
    last_seen_on = models.DateField(_("last seen on"), null=True, blank=True)
    # "Not at home"/"refused" in a row since the last successful visit.
    failed_attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    revisit_after = models.DateTimeField(_("revisit after"), null=True, blank=True)
    revisit_part = models.CharField(
        _("revisit at"), max_length=10, choices=DayPart.choices, blank=True
    )
    # Failed too often: for the zone's responsible person.
    flagged = models.BooleanField(_("flagged for the responsible person"), default=False)

    class Meta:
        verbose_name = _("room visit state")
        verbose_name_plural = _("room visit states")
        indexes = [
            models.Index(
                fields=["revisit_after"],
                condition=Q(revisit_after__isnull=False),
                name="room_state_revisit",
            ),
            models.Index(fields=["flagged"], condition=Q(flagged=True), name="room_state_flagged"),
        ]


class CoverageCount(models.Model):
    """Rooms per area, per rented or not and per day of last visit (null: never visited).

    Every room is counted in exactly one row: the area is the current zone its building lies in,
    else its community. Kept by database triggers as rooms come and go and as visits move a room's
    last-visit day, and rebuilt for a community when its zones change; so coverage of the last N
    days for any territory node is a sum over a few rows found by code prefix."""

    area_code = models.CharField(_("zone or community"), max_length=15)
    rented = models.BooleanField(_("rented"))
    last_visited_on = models.DateField(_("last visited on"), null=True, blank=True)
    rooms = models.PositiveIntegerField(_("rooms"))

    class Meta:
        verbose_name = _("coverage count")
        verbose_name_plural = _("coverage counts")
        constraints = [
            models.UniqueConstraint(
                fields=["area_code", "rented", "last_visited_on"],
                name="coverage_count_key",
                nulls_distinct=False,
            ),
        ]
        # Prefix reads (a community, street office or district: area_code LIKE '420602001%').
        indexes = [
            models.Index(
                OpClass("area_code", name="varchar_pattern_ops"), name="coverage_count_area_prefix"
            )
        ]


class SweepCount(models.Model):
    """A sweep's target rooms per team (of the plan in force; null before any plan) and area,
    with how many were visited, wait for a revisit or are flagged. Kept up to date as visits
    arrive and rebuilt when a new plan version moves buildings between teams, so a sweep's
    coverage and gap figures are reads of a few rows."""

    sweep = models.ForeignKey(Sweep, models.CASCADE, related_name="counts", verbose_name=_("sweep"))
    team = models.ForeignKey(
        SweepTeam,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="counts",
        verbose_name=_("team"),
    )
    area_code = models.CharField(_("zone or community"), max_length=15)
    targets = models.PositiveIntegerField(_("target rooms"), default=0)
    visited = models.PositiveIntegerField(_("visited rooms"), default=0)
    revisits = models.PositiveIntegerField(_("rooms to revisit"), default=0)
    flagged = models.PositiveIntegerField(_("flagged rooms"), default=0)

    class Meta:
        verbose_name = _("sweep count")
        verbose_name_plural = _("sweep counts")
        constraints = [
            models.UniqueConstraint(
                fields=["sweep", "team", "area_code"],
                name="sweep_count_key",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(visited__lte=F("targets")), name="sweep_count_visited_le_targets"
            ),
        ]


class CoverageSnapshot(models.Model):
    """Coverage of one area (zone, else community) as it was at the end of one day: its rooms,
    and how many of them were seen (a conclusive visit) in the 7, 30 and 90 days up to that day
    and ever. Taken for every Sunday and every month's last day (``grid.snapshots``), so the
    choropleth replays coverage week by week and the monthly report reads its month's end; a
    snapshot once taken is never changed."""

    day = models.DateField(_("day"))
    area_code = models.CharField(_("zone or community"), max_length=15)
    rented = models.BooleanField(_("rented"))
    rooms = models.PositiveIntegerField(_("rooms"))
    seen_7 = models.PositiveIntegerField(_("seen in 7 days"))
    seen_30 = models.PositiveIntegerField(_("seen in 30 days"))
    seen_90 = models.PositiveIntegerField(_("seen in 90 days"))
    seen_ever = models.PositiveIntegerField(_("ever seen"))

    class Meta:
        verbose_name = _("coverage snapshot")
        verbose_name_plural = _("coverage snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "area_code", "rented"], name="coverage_snapshot_key"
            ),
            models.CheckConstraint(
                condition=Q(seen_7__lte=F("seen_30"))
                & Q(seen_30__lte=F("seen_90"))
                & Q(seen_90__lte=F("seen_ever"))
                & Q(seen_ever__lte=F("rooms")),
                name="coverage_snapshot_nested",
            ),
        ]
        # Reads: one day, areas by code prefix.
        indexes = [
            models.Index(
                "day",
                OpClass("area_code", name="varchar_pattern_ops"),
                name="coverage_snapshot_day_area",
            )
        ]


class CoverageSnapshotDay(models.Model):
    """A day whose snapshot is complete (its rows are written in the same transaction)."""

    day = models.DateField(_("day"), primary_key=True)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    rooms = models.PositiveIntegerField(_("rooms"))
    seconds = models.FloatField(_("seconds it took"))

    class Meta:
        verbose_name = _("coverage snapshot day")
        verbose_name_plural = _("coverage snapshot days")
        ordering = ["-day"]
