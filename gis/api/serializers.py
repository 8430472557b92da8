"""GeoJSON ↔ GEOS serializers for the register.

Serializers check field formats only. Everything else, uniqueness included (a duplicate is a 409
from the service, not DRF's 400), is the services' job.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from ..masking import mask_phone
from ..models import (
    Building,
    Community,
    Compound,
    District,
    DoorPlate,
    Entrance,
    Landlord,
    Room,
    StreetOffice,
)
from ..querysets import can_write
from .fields import CleanGeometryField, CodeRelatedField, PlanGeometryField, PlanLineField


class FeatureSerializer(GeoFeatureModelSerializer):
    """A GeoJSON Feature (or a flat object) in; a clear 400 for anything else."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Expected a GeoJSON Feature or a JSON object.")]},
                code="not_a_feature",
            )
        if "properties" in data and not isinstance(data["properties"], dict):
            raise serializers.ValidationError(
                {"properties": [_("The Feature's properties must be a JSON object.")]},
                code="not_a_feature",
            )
        return super().to_internal_value(data)


class DistrictSerializer(FeatureSerializer):
    geom = CleanGeometryField("MultiPolygon")

    class Meta:
        model = District
        geo_field = "geom"
        fields = ["id", "code", "name", "geom"]
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


class StreetOfficeSerializer(FeatureSerializer):
    geom = CleanGeometryField("MultiPolygon")
    district = CodeRelatedField(queryset=District.objects.all())

    class Meta:
        model = StreetOffice
        geo_field = "geom"
        fields = ["id", "code", "name", "district", "geom"]
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


class CommunitySerializer(FeatureSerializer):
    geom = CleanGeometryField("MultiPolygon")
    street_office = CodeRelatedField(queryset=StreetOffice.objects.all())

    class Meta:
        model = Community
        geo_field = "geom"
        fields = ["id", "code", "name", "street_office", "committee", "geom"]
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


class CompoundSerializer(FeatureSerializer):
    geom = CleanGeometryField("MultiPolygon")

    class Meta:
        model = Compound
        geo_field = "geom"
        fields = ["id", "name", "kind", "community", "responsible_body", "geom"]


class LandlordSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)
    phone_masked = serializers.SerializerMethodField()

    class Meta:
        model = Landlord
        fields = ["id", "name", "phone", "phone_masked", "community"]

    def get_phone_masked(self, landlord: Landlord) -> str:
        return mask_phone(landlord.phone)


class BuildingSerializer(FeatureSerializer):
    footprint = CleanGeometryField("Polygon")

    class Meta:
        model = Building
        geo_field = "footprint"
        fields = [
            "id",
            "name",
            "floors_above",
            "floors_below",
            "use",
            "compound",
            "community",
            "source_id",
            "footprint",
        ]
        read_only_fields = ["community"]
        extra_kwargs: dict[str, dict[str, Any]] = {"source_id": {"validators": []}}
        # Not drawn on the map: left out of the layer list, in the building's detail.
        list_exclude = ["source_id", "floors_below"]


class EntranceSerializer(serializers.ModelSerializer):
    location = CleanGeometryField("Point", required=False, allow_null=True)

    class Meta:
        model = Entrance
        fields = ["id", "building", "number", "location"]
        validators: list[object] = []


class RoomSerializer(serializers.ModelSerializer):
    plan_geom = PlanGeometryField(required=False, allow_null=True)

    class Meta:
        model = Room
        fields = [
            "id",
            "building",
            "entrance",
            "floor",
            "number",
            "use",
            "area_m2",
            "plan_geom",
            "landlord",
        ]
        validators: list[object] = []


class RoomSplitSerializer(serializers.Serializer):
    """The body of ``POST /api/rooms/{id}/split/`` (``gis.services.split_room``)."""

    numbers = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=2, max_length=2
    )
    line = PlanLineField(required=False, allow_null=True)


class RoomSplitResultSerializer(serializers.Serializer):
    rooms = RoomSerializer(many=True)


class DoorPlateSerializer(FeatureSerializer):
    location = CleanGeometryField("Point", required=False, allow_null=True)

    class Meta:
        model = DoorPlate
        geo_field = "location"
        fields = [
            "id",
            "building",
            "entrance",
            "room",
            "district",
            "street_office",
            "community",
            "road",
            "number",
            "compound",
            "building_number",
            "entrance_number",
            "floor",
            "room_number",
            "address",
            "population_plate",
            "population_plate_on",
            "qr_token",
            "location",
        ]
        read_only_fields = [
            "district",
            "street_office",
            "community",
            "compound",
            "entrance_number",
            "floor",
            "room_number",
            "address",
            "qr_token",
        ]


class FloorSerializer(serializers.Serializer):
    floor = serializers.IntegerField()
    rooms = RoomSerializer(many=True)


class BuildingDetailSerializer(BuildingSerializer):
    """A building with its entrances, plates and rooms grouped by floor, top floor first."""

    floors = serializers.SerializerMethodField()
    entrances = EntranceSerializer(many=True, read_only=True)
    door_plates = serializers.SerializerMethodField()
    community_code = serializers.CharField(source="community.code", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    compound_name = serializers.CharField(source="compound.name", read_only=True, default=None)
    landlords = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta(BuildingSerializer.Meta):
        fields = [
            *BuildingSerializer.Meta.fields,
            "community_code",
            "community_name",
            "compound_name",
            "entrances",
            "door_plates",
            "landlords",
            "floors",
            "can_edit",
        ]

    @extend_schema_field(FloorSerializer(many=True))
    def get_floors(self, building: Building) -> list[dict[str, Any]]:
        by_floor: dict[int, list[Room]] = {f: [] for f in building.floor_numbers}
        for room in building.rooms.all():
            by_floor.setdefault(room.floor, []).append(room)
        return [
            {"floor": floor, "rooms": RoomSerializer(rooms, many=True).data}
            for floor, rooms in sorted(by_floor.items(), reverse=True)
        ]

    def get_door_plates(self, building: Building) -> list[dict[str, Any]]:
        return [
            {
                "id": p.id,
                "address": p.address,
                "population_plate": p.population_plate,
                "room": p.room_id,
            }
            for p in building.door_plates.all()
        ]

    @extend_schema_field(LandlordSerializer(many=True))
    def get_landlords(self, building: Building) -> list[dict[str, Any]]:
        """The landlords of the building's rooms (phones masked), by name."""
        landlords = {r.landlord.pk: r.landlord for r in building.rooms.all() if r.landlord}
        ordered = sorted(landlords.values(), key=lambda landlord: (landlord.name, landlord.pk))
        return LandlordSerializer(ordered, many=True).data  # type: ignore[return-value]

    def get_can_edit(self, building: Building) -> bool:
        """Whether the requesting user may change this building, its plates and rooms."""
        request = self.context.get("request")
        return request is not None and can_write(request.user, building.community.code)


class ChangeSerializer(serializers.Serializer):
    event_id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # insert | update | delete
    created_at = serializers.DateTimeField()
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    diff = serializers.DictField()
