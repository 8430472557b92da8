"""Django admin for zones, staff and assignments: saves through ``grid.services`` (the register's
``ServiceForm`` looks the service up in ``gis.history.SAVERS``), maps with the local widget."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gis.admin import LandlordForm, RegisterAdmin

from . import services
from .models import Assignment, Staff, Zone


class GridAdmin(RegisterAdmin):
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_grid_object(actor=request.user, instance=obj)


@admin.register(Zone)
class ZoneAdmin(GridAdmin):
    list_display = ["code", "name", "kind", "community", "version", "valid_from", "valid_to"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["version", "valid_from", "valid_to"]
    raw_id_fields = ["community"]


class StaffForm(LandlordForm):
    """The phone shown masked and kept when left blank, as for landlords."""


@admin.register(Staff)
class StaffAdmin(GridAdmin):
    form = StaffForm
    list_display = ["name", "community", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    raw_id_fields = ["community", "user"]


@admin.register(Assignment)
class AssignmentAdmin(GridAdmin):
    list_display = ["staff", "role", "zone", "building", "starts_on", "ends_on"]
    list_filter = ["role"]
    raw_id_fields = ["staff", "zone", "building"]
