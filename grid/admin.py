"""Django admin for zones, staff and assignments: saves through ``grid.services`` (the register's
``ServiceForm`` looks the service up in ``gis.history.SAVERS``) and deletes through the register's
``delete_object``, maps with the local widget."""

from __future__ import annotations

from django.contrib import admin

from gis.admin import LandlordForm, RegisterAdmin

from .models import Assignment, Staff, Zone


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
