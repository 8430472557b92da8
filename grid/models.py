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
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.models import SRID, Building, Community, Compound, _digits, _history, _valid_geometry
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
