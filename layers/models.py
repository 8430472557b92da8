"""Map products stored in the database: the field-pack jobs (map sheets, ``layers.sheets``)."""

from __future__ import annotations

import uuid
from typing import Any, Self

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from gis.models import Building
from gis.progress import JobProgress
from gis.querysets import Action
from grid.models import Sweep, SweepTeam


class SheetJobQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: Action = Action.READ) -> Self:
        """A pack is its submitter's: it was read with their scope, so nobody else downloads
        it (a narrower scope would see more than its own)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(created_by=user)


class PackKindChoice(models.TextChoices):
    TEAM_DAY = "team_day", _("team (one day or all days)")
    SWEEP = "sweep", _("whole sweep (atlas)")
    ZONE = "zone", _("zone")
    BUILDING = "building", _("building")


class PaperChoice(models.TextChoices):
    AUTO = "auto", _("chosen by the extent")
    A4 = "a4", "A4"
    A3 = "a3", "A3"


class SheetJob(JobProgress):
    """A field pack made in the background (``layers.sheets.jobs``): one PDF (cover, map sheets,
    registers, building plans) and the same pack as a GeoPackage."""

    objects = SheetJobQuerySet.as_manager()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=PackKindChoice.choices)
    sweep = models.ForeignKey(
        Sweep, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("sweep")
    )
    team = models.ForeignKey(
        SweepTeam, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    zone_code = models.CharField(_("zone code"), max_length=15, blank=True)
    building = models.ForeignKey(
        Building,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    paper = models.CharField(
        _("paper"), max_length=4, choices=PaperChoice.choices, default=PaperChoice.AUTO
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    title = models.CharField(_("title"), max_length=300, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="sheets/", blank=True)
    gpkg = models.FileField(_("GeoPackage"), upload_to="sheets/", blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    sheets = models.PositiveIntegerField(_("map sheets"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)
    # Pages and seconds of each part: {"cover": [1, 0.1], "maps": [8, 1.2], "registers": …,
    # "plans": …}, and the phases {"read": s, "draw": s, "gpkg": s}.
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="sheet_jobs",
        verbose_name=_("submitted by"),
    )

    class Meta:
        verbose_name = _("field pack")
        verbose_name_plural = _("field packs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day__isnull=True) | models.Q(team__isnull=False),
                name="sheet_job_day_needs_team",
            ),
        ]


class BuildingCoverage(models.Model):
    """Each building's rooms and the days its rooms were last seen, for the coverage tiles and
    gap lists (``layers.coverage``): kept by the triggers of migration 0002 as rooms come and go
    and as visits move a room's ``last_seen_on``, so that a tile reads one row per building
    instead of every room and its visit state.

    ``seen`` holds the ``last_seen_on`` of every room of the building ever seen, sorted (a day
    once per room); ``rented_seen`` those of its rented rooms. Rooms seen since a day are
    ``cardinality(seen) - width_bucket(day - 1, seen)``: a binary search, not a scan."""

    building = models.OneToOneField(
        Building,
        models.CASCADE,
        primary_key=True,
        related_name="coverage",
        verbose_name=_("building"),
    )
    rooms = models.PositiveIntegerField(_("rooms"), default=0)
    rented_rooms = models.PositiveIntegerField(_("rented rooms"), default=0)
    seen = ArrayField(models.DateField(), default=list, verbose_name=_("days last seen"))
    rented_seen = ArrayField(
        models.DateField(), default=list, verbose_name=_("days last seen (rented rooms)")
    )

    class Meta:
        verbose_name = _("building coverage")
        verbose_name_plural = _("building coverage")
