"""Serializers of zones (GeoJSON Features), staff (phone write-only, shown masked) and
assignments. Formats only: the rules are the services' (``grid.services``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from gis.api.fields import CleanGeometryField, CodeRelatedField
from gis.api.serializers import FeatureSerializer
from gis.masking import mask_phone
from gis.models import Community

from ..models import Assignment, Staff, Zone


class ZoneSerializer(FeatureSerializer):
    geom = CleanGeometryField("MultiPolygon")
    community = CodeRelatedField(queryset=Community.objects.all())
    code = serializers.CharField(required=False, allow_blank=True, max_length=15)

    class Meta:
        model = Zone
        geo_field = "geom"
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "community",
            "version",
            "valid_from",
            "valid_to",
            "geom",
        ]
        read_only_fields = ["version", "valid_from", "valid_to"]
        # A duplicate current code is the service's 409, not DRF's unique-constraint 400.
        validators: list[Any] = []


class StaffSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)
    phone_masked = serializers.SerializerMethodField()

    class Meta:
        model = Staff
        fields = ["id", "name", "phone", "phone_masked", "community", "user", "active"]

    def get_phone_masked(self, staff: Staff) -> str:
        return mask_phone(staff.phone)


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "staff", "zone", "building", "role", "starts_on", "ends_on"]
        extra_kwargs: dict[str, dict[str, Any]] = {"starts_on": {"required": False}}
