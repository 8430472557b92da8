"""Django admin for the people register.

Personal records are shown read-only, by name, with the masked identity number and phone only:
the ciphertext columns, the search hash and the scanned contracts are never fields here, and the
register is changed through the API and the pages (the services: validation, encryption, scope).
Every admin view of a personal model runs inside :func:`registry.privacy.personal` for the
request's user (:class:`PersonalAdmin`), its page rendered inside the block, and lists only
``visible_to(user)``: row-level security applies as well.

The follow-up schedules and the star criteria are data, not personal: editable by admins holding
the model permissions. The access log is read-only for everyone (no add, change or delete
permission, whoever asks) and readable by auditors (``registry.audit``) only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse

from .api.people import access_log_for
from .models import (
    AccessLog,
    FollowUp,
    FollowUpSchedule,
    Household,
    LandlordContract,
    Occupancy,
    Rectification,
    RentWithdrawal,
    Resident,
    StarCriterion,
    StarRating,
    SupplyDistribution,
    TenancyContract,
)
from .privacy import personal


def _inside(request: HttpRequest, view: Callable[..., HttpResponse], *args: Any) -> HttpResponse:
    """Run an admin view inside the user's personal-data context, rendering its page there
    (a TemplateResponse renders lazily, after the view returns)."""
    with personal(request.user):
        response = view(request, *args)
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
    return response


class PersonalAdmin(admin.ModelAdmin):
    """A personal model in the admin: scoped, inside ``personal()``, read-only."""

    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.objects.visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return _inside(request, super().changelist_view, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return _inside(request, super().change_view, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return _inside(request, super().delete_view, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return _inside(request, super().history_view, object_id, extra_context)


@admin.register(Resident)
class ResidentAdmin(PersonalAdmin):
    list_display = [
        "name",
        "id_number_masked",
        "phone_masked",
        "sex",
        "birth_date",
        "category",
        "community_code",
    ]
    list_filter = ["category"]
    search_fields = ["name"]
    readonly_fields = (
        "name",
        "sex",
        "birth_date",
        "id_number_masked",
        "phone_masked",
        "home_registration",
        "employer",
        "arrival_date",
        "category",
        "schedule",
        "community_code",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields


@admin.register(Household)
class HouseholdAdmin(PersonalAdmin):
    list_display = ["id", "room", "community_code", "created_on", "dissolved_on"]
    readonly_fields = (
        "room",
        "community_code",
        "created_on",
        "dissolved_on",
    )
    fields = readonly_fields
    list_select_related = ["room"]


@admin.register(Occupancy)
class OccupancyAdmin(PersonalAdmin):
    list_display = ["resident", "household", "room", "relation", "moved_in", "moved_out"]
    search_fields = ["resident__name"]
    readonly_fields = (
        "resident",
        "household",
        "room",
        "community_code",
        "relation",
        "moved_in",
        "moved_out",
    )
    fields = readonly_fields
    list_select_related = ["resident", "room"]


@admin.register(FollowUp)
class FollowUpAdmin(PersonalAdmin):
    list_display = ["resident", "done_on", "outcome", "community_code"]
    list_filter = ["outcome"]
    search_fields = ["resident__name"]
    readonly_fields = (
        "resident",
        "done_on",
        "outcome",
        "note",
        "community_code",
    )
    fields = readonly_fields
    list_select_related = ["resident"]


@admin.register(LandlordContract)
class LandlordContractAdmin(PersonalAdmin):
    # The scanned copy is encrypted on disk: never a link here.
    list_display = ["landlord", "signed_on", "expires_on", "community_code"]
    search_fields = ["landlord__name"]
    readonly_fields = (
        "landlord",
        "signed_on",
        "expires_on",
        "community_code",
    )
    fields = readonly_fields


@admin.register(TenancyContract)
class TenancyContractAdmin(PersonalAdmin):
    list_display = ["tenant", "room", "signed_on", "expires_on", "community_code"]
    search_fields = ["tenant__name"]
    readonly_fields = (
        "tenant",
        "room",
        "landlord",
        "signed_on",
        "expires_on",
        "community_code",
    )
    fields = readonly_fields
    list_select_related = ["tenant", "room"]


@admin.register(SupplyDistribution)
class SupplyDistributionAdmin(PersonalAdmin):
    list_display = ["household", "item", "quantity", "unit", "given_on", "community_code"]
    search_fields = ["item"]
    readonly_fields = (
        "household",
        "item",
        "quantity",
        "unit",
        "given_on",
        "received_by",
        "note",
    )
    fields = readonly_fields


@admin.register(StarRating)
class StarRatingAdmin(PersonalAdmin):
    list_display = ["building", "month", "stars", "reward", "community_code"]
    readonly_fields = (
        "building",
        "month",
        "scores",
        "stars",
        "reward",
        "community_code",
        "rated_at",
    )
    fields = readonly_fields


@admin.register(Rectification)
class RectificationAdmin(PersonalAdmin):
    list_display = ["building", "ordered_on", "deadline", "done_on", "community_code"]
    readonly_fields = (
        "building",
        "rating",
        "issues",
        "ordered_on",
        "deadline",
        "done_on",
    )
    fields = readonly_fields


@admin.register(RentWithdrawal)
class RentWithdrawalAdmin(PersonalAdmin):
    list_display = ["building", "withdrawn_on", "restored_on", "community_code"]
    readonly_fields = (
        "building",
        "reason",
        "withdrawn_on",
        "restored_on",
        "community_code",
    )
    fields = readonly_fields


# -- data, not personal: editable by admins with the model permissions


@admin.register(FollowUpSchedule)
class FollowUpScheduleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "months", "category"]
    search_fields = ["name"]


@admin.register(StarCriterion)
class StarCriterionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "stars", "position", "active"]
    list_editable = ["stars", "position", "active"]
    search_fields = ["name"]


# -- the access log: nobody adds, changes or deletes; auditors read it


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "action", "what", "community_code", "rows", "reason"]
    list_filter = ["action"]
    search_fields = ["username"]
    readonly_fields = (
        "at",
        "username",
        "action",
        "what",
        "object_id",
        "community_code",
        "rows",
        "reason",
        "path",
    )
    fields = readonly_fields
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return access_log_for(request.user, {})

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("registry.audit")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.audit") or super().has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
