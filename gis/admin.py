"""Django admin for the register. Saving goes through the same services as the API, so the admin
gets the same validation, scope and history; maps use only locally served assets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import services
from .exceptions import PlategridError
from .history import SAVERS
from .masking import mask_phone
from .models import (
    Building,
    Community,
    Compound,
    District,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    ScopeGrant,
    StreetOffice,
)
from .widgets import LocalMapWidget


class ServiceForm(forms.ModelForm):
    """Saves through the model's service while validating, so that domain errors show on the form."""

    actor: Any = None

    def _post_clean(self) -> None:
        # The service checks every rule the model's check constraints hold, in words that name
        # the fields; Django's own constraint check would answer first with a constraint's name.
        # The database still enforces the constraints when the service saves.
        self.instance.validate_constraints = lambda exclude=None: None
        super()._post_clean()  # type: ignore[misc]  # Django's hook after clean()
        if self.errors:
            return
        saver = SAVERS[type(self.instance)]
        field_names = {f.name for f in self.instance._meta.fields}
        data = {k: v for k, v in self.cleaned_data.items() if k in field_names}
        existing = self.instance if self.instance.pk else None
        try:
            with transaction.atomic():
                self.instance = saver(actor=self.actor, data=data, instance=existing)
        except PlategridError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, exc.render(get_language() or "zh-hans"))


class LandlordForm(ServiceForm):
    """The phone is personal data: the form shows it masked and keeps it when left blank."""

    phone = forms.CharField(required=False, max_length=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["phone"] = ""
        if self.instance.pk and self.instance.phone:
            self.fields["phone"].help_text = mask_phone(self.instance.phone)

    def clean_phone(self) -> str:
        return self.cleaned_data["phone"] or (self.instance.phone if self.instance.pk else "")


class RegisterAdmin(admin.ModelAdmin):
    form = ServiceForm
    formfield_overrides = {
        gis_models.GeometryField: {"widget": LocalMapWidget},
    }

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.objects.visible_to(request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Already saved by the service during validation (``ServiceForm``)."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_object(actor=request.user, instance=obj)


@admin.register(District)
class DistrictAdmin(RegisterAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(StreetOffice)
class StreetOfficeAdmin(RegisterAdmin):
    list_display = ["code", "name", "district"]
    search_fields = ["code", "name"]


@admin.register(Community)
class CommunityAdmin(RegisterAdmin):
    list_display = ["code", "name", "street_office", "committee"]
    search_fields = ["code", "name"]


@admin.register(Compound)
class CompoundAdmin(RegisterAdmin):
    list_display = ["name", "kind", "community"]
    list_filter = ["kind"]
    search_fields = ["name"]
    raw_id_fields = ["community"]


@admin.register(Building)
class BuildingAdmin(RegisterAdmin):
    list_display = ["id", "name", "use", "floors_above", "community", "compound"]
    list_filter = ["use"]
    search_fields = ["name", "source_id"]
    raw_id_fields = ["compound"]


@admin.register(Entrance)
class EntranceAdmin(RegisterAdmin):
    list_display = ["id", "building", "number"]
    raw_id_fields = ["building"]


@admin.register(Room)
class RoomAdmin(RegisterAdmin):
    list_display = ["id", "building", "floor", "number", "use"]
    list_filter = ["use"]
    raw_id_fields = ["building", "entrance", "landlord"]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "plan_geom":
            # Metres in the building's own frame: text (WKT or GeoJSON), not a geographic map.
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3, "cols": 80})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(DoorPlate)
class DoorPlateAdmin(RegisterAdmin):
    list_display = ["address", "population_plate"]
    search_fields = ["address"]
    raw_id_fields = ["building", "entrance", "room"]


@admin.register(Landlord)
class LandlordAdmin(RegisterAdmin):
    list_display = ["name", "community"]
    search_fields = ["name"]
    raw_id_fields = ["community"]
    form = LandlordForm


@admin.register(ScopeGrant)
class ScopeGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "territory_code"]
    list_filter = ["role"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


admin.site.site_header = _("plategrid register")
admin.site.site_title = _("plategrid")
admin.site.index_title = _("Territory and property register")
