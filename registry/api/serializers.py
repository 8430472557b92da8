"""What the register's API shows and takes.

Output serializers name their fields one by one: a resident is shown with ``id_number_masked`` and
``phone_masked`` only; the ciphertext columns and the search hash are never fields, and the clear
number and phone taken by the write bodies are ``write_only``. Serializing reads the personal
tables: callers evaluate ``.data`` inside :func:`registry.privacy.personal`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gis.models import DoorPlate, Room

from ..models import AccessLog, Category, Occupancy, Outcome, Relation, Sex


def door_plate_of(room: Room) -> DoorPlate | None:
    """The room's own door plate, else the building's first plate of no room (prefetched
    ``building.door_plates``)."""
    plates = list(room.building.door_plates.all())
    own = [p for p in plates if p.room_id == room.pk]
    if own:
        return own[0]
    whole = sorted((p for p in plates if p.room_id is None), key=lambda p: p.pk)
    return whole[0] if whole else None


def place(occupancy: Occupancy) -> dict[str, Any]:
    room = occupancy.room
    plate = door_plate_of(room)
    return {
        "occupancy": occupancy.pk,
        "household": occupancy.household_id,
        "relation": occupancy.relation,
        "moved_in": occupancy.moved_in,
        "moved_out": occupancy.moved_out,
        "room": {"id": room.pk, "floor": room.floor, "number": room.number},
        "building": {"id": room.building_id, "name": room.building.name},
        "address": plate.address if plate else "",
        "community_code": occupancy.community_code,
    }


def occupancy_on(occupancies: list[Occupancy], day: date | None) -> Occupancy | None:
    """The occupancy under way on ``day`` (the current one when ``None``)."""
    for occupancy in occupancies:
        if day is None:
            if occupancy.moved_out is None:
                return occupancy
        elif occupancy.moved_in <= day and (
            occupancy.moved_out is None or occupancy.moved_out > day
        ):
            return occupancy
    return None


class PlaceSerializer(serializers.Serializer):
    """Where a resident lives (lived): room, building, door-plate address, household."""

    occupancy = serializers.IntegerField()
    household = serializers.IntegerField()
    relation = serializers.ChoiceField(choices=Relation.choices)
    moved_in = serializers.DateField()
    moved_out = serializers.DateField(allow_null=True)
    room = serializers.DictField()
    building = serializers.DictField()
    address = serializers.CharField()
    community_code = serializers.CharField()


class FollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    done_on = serializers.DateField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ResidentSerializer(serializers.Serializer):
    """A resident as the list shows them: masked identity number and phone, where they live on
    the day asked (``context["day"]``, today's occupancy when absent)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    sex = serializers.CharField()
    birth_date = serializers.DateField()
    id_number_masked = serializers.CharField()
    phone_masked = serializers.CharField()
    category = serializers.CharField()
    home_registration = serializers.CharField()
    employer = serializers.CharField()
    arrival_date = serializers.DateField(allow_null=True)
    schedule = serializers.SerializerMethodField()
    community_code = serializers.CharField()
    place = serializers.SerializerMethodField()

    def get_schedule(self, obj: Any) -> str | None:
        return obj.schedule.code if obj.schedule_id else None

    def get_place(self, obj: Any) -> dict[str, Any] | None:
        found = occupancy_on(list(obj.occupancies.all()), self.context.get("day"))
        return place(found) if found else None


class ResidentDetailSerializer(ResidentSerializer):
    """A resident's file: the list's fields, the occupancy history and the follow-ups."""

    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    occupancies = serializers.SerializerMethodField()
    follow_ups = serializers.SerializerMethodField()

    def get_occupancies(self, obj: Any) -> list[dict[str, Any]]:
        return [place(o) for o in obj.occupancies.all()]

    def get_follow_ups(self, obj: Any) -> list[dict[str, Any]]:
        return [dict(FollowUpSerializer(f).data) for f in obj.follow_ups.all()]


class _PersonFields(serializers.Serializer):
    """The person's fields a write takes; ``id_number`` and ``phone`` in clear, write-only."""

    name = serializers.CharField(max_length=50)
    category = serializers.ChoiceField(choices=Category.choices)
    id_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, write_only=True
    )
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, write_only=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True)
    home_registration = serializers.CharField(max_length=100, required=False, allow_blank=True)
    employer = serializers.CharField(max_length=100, required=False, allow_blank=True)
    arrival_date = serializers.DateField(required=False, allow_null=True)
    schedule = serializers.SlugField(max_length=40, required=False, allow_null=True)


class ResidentCreateSerializer(_PersonFields):
    """``POST /api/registry/residents/``: the person, the room and the day they moved in; a
    household of that room to join (with the relation), or a new household."""

    room = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    moved_in = serializers.DateField()
    relation = serializers.ChoiceField(
        choices=Relation.choices, required=False, default=Relation.HEAD
    )
    household = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True
    )


class ResidentUpdateSerializer(_PersonFields):
    """``PATCH``: only the fields sent change (``id_number``/``phone`` ``""`` clears them)."""

    name = serializers.CharField(max_length=50, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


class MoveSerializer(serializers.Serializer):
    room = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    on = serializers.DateField()
    relation = serializers.ChoiceField(
        choices=Relation.choices, required=False, default=Relation.HEAD
    )
    household = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True
    )


class MoveOutSerializer(serializers.Serializer):
    on = serializers.DateField()
    outflowing = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Keep the file as an out-flowing resident of the community."),
    )


class SearchIdSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=30, write_only=True)
    reason = serializers.CharField(max_length=200, allow_blank=True, write_only=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")


class RevealedSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    phone = serializers.CharField()


class MemberSerializer(serializers.Serializer):
    """A household member on the day asked."""

    resident = serializers.IntegerField(source="resident_id")
    name = serializers.CharField(source="resident.name")
    id_number_masked = serializers.CharField(source="resident.id_number_masked")
    category = serializers.CharField(source="resident.category")
    relation = serializers.CharField()
    moved_in = serializers.DateField()
    moved_out = serializers.DateField(allow_null=True)


class HouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    community_code = serializers.CharField()
    created_on = serializers.DateField()
    dissolved_on = serializers.DateField(allow_null=True)
    room = serializers.SerializerMethodField()
    building = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()

    def get_room(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.room_id, "floor": obj.room.floor, "number": obj.room.number}

    def get_building(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.room.building_id, "name": obj.room.building.name}

    def get_address(self, obj: Any) -> str:
        plate = door_plate_of(obj.room)
        return plate.address if plate else ""


class HouseholdDetailSerializer(HouseholdSerializer):
    """A household and its members on ``context["day"]`` (today when absent)."""

    members = serializers.SerializerMethodField()
    as_of = serializers.SerializerMethodField()

    def get_as_of(self, obj: Any) -> date:
        return self.context.get("day") or timezone.localdate()

    def get_members(self, obj: Any) -> list[dict[str, Any]]:
        day = self.get_as_of(obj)
        members = [
            o
            for o in obj.occupancies.all()
            if o.moved_in <= day and (o.moved_out is None or o.moved_out > day)
        ]
        return [dict(MemberSerializer(o).data) for o in members]


class AccessLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessLog
        fields = [
            "id",
            "at",
            "user",
            "username",
            "action",
            "what",
            "object_id",
            "community_code",
            "rows",
            "reason",
            "path",
        ]
        read_only_fields = fields
