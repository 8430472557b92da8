"""Django admin for zones, staff and assignments: saves through ``grid.services`` (the register's
``ServiceForm`` looks the service up in ``gis.history.SAVERS``) and deletes through the register's
``delete_object``, maps with the local widget; sweeps with their teams and plan versions shown
read-only (only name and window change here, through ``grid.sweeps``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gis.admin import LandlordForm, RegisterAdmin

from . import sweeps
from .models import Assignment, Staff, Sweep, SweepPlan, SweepTeam, Zone


@admin.register(Zone)
class ZoneAdmin(RegisterAdmin):
    list_display = ["code", "name", "kind", "community", "version", "valid_from", "valid_to"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["version", "valid_from", "valid_to"]
    raw_id_fields = ["community"]


class StaffForm(LandlordForm):
    """The phone shown masked and kept when left blank, as for landlords."""


@admin.register(Staff)
class StaffAdmin(RegisterAdmin):
    form = StaffForm
    list_display = ["name", "community", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    raw_id_fields = ["community", "user"]


@admin.register(Assignment)
class AssignmentAdmin(RegisterAdmin):
    list_display = ["staff", "role", "zone", "building", "starts_on", "ends_on"]
    list_filter = ["role"]
    raw_id_fields = ["staff", "zone", "building"]


class SweepTeamInline(admin.TabularInline):
    """A sweep's teams, shown; they are changed through the sweep API (``grid.sweeps``)."""

    model = SweepTeam
    fields = readonly_fields = ("name", "start_name", "member_names")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("members"))
    def member_names(self, team: SweepTeam) -> str:
        return "、".join(m.name for m in team.members.all())


class SweepPlanInline(admin.TabularInline):
    """A sweep's plan versions, read-only: versions never change once written."""

    model = SweepPlan
    fields = readonly_fields = ("version", "reason", "created_by", "created_at", "summary")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    """Sweeps in the user's territory: name and window are changed through
    ``grid.sweeps.update_sweep``; sweeps are created, planned and closed from the API."""

    list_display = ["name", "territory_code", "target", "starts_on", "ends_on", "closed_at"]
    list_filter = ["target"]
    search_fields = ["name", "territory_code"]
    readonly_fields = (
        "territory_code",
        "area_codes",
        "target",
        "not_visited_days",
        "minutes_per_room",
        "walking_speed_m_per_min",
        "day_minutes",
        "revisit_attempts",
        "far_visit_m",
        "created_by",
        "created_at",
        "closed_at",
    )
    fields = ("name", "starts_on", "ends_on", *readonly_fields)
    inlines = [SweepTeamInline, SweepPlanInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Sweep.objects.visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {key: form.cleaned_data[key] for key in ("name", "starts_on", "ends_on")}
        sweeps.update_sweep(request.user, Sweep.objects.get(pk=obj.pk), **data)
