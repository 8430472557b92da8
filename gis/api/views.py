"""Thin API views: scoped querysets in, services for writes, GeoJSON out.

List endpoints of layers take the geometry as GeoJSON text from PostGIS (``ST_AsGeoJSON``) and
embed it as is, reading plain driver rows (``gis.sql.fetch_rows``): no GEOS object and no model
instance is built per feature.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import history, services
from ..address import parse_address
from ..exceptions import InvalidInputError, ScopeError
from ..functions import MakeEnvelope, SimplifyPreserveTopology
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
from . import serializers as s
from .pagination import FeaturePagination
from .renderers import FastJSONRenderer, GeoJSONRenderer

#: Largest zoom level honoured by ``?zoom=``; above it geometries are sent unsimplified.
MAX_SIMPLIFY_ZOOM = 18

BBOX_PARAM = OpenApiParameter(
    "bbox", OpenApiTypes.STR, description="minLon,minLat,maxLon,maxLat (EPSG:4326)"
)
ZOOM_PARAM = OpenApiParameter(
    "zoom", OpenApiTypes.INT, description="Web map zoom 0-22: geometries are simplified to it"
)


def parse_bbox(text: str) -> MakeEnvelope:
    return MakeEnvelope(*bbox_values(text))


def bbox_values(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` as four numbers, or a clear error."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(v == v for v in values):
        raise InvalidInputError(
            _("bbox %(value)s must be four numbers: minLon,minLat,maxLon,maxLat."),
            code="bad_bbox",
            field="bbox",
            value=text[:100],
        )
    x0, y0, x1, y1 = values
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidInputError(
            _("bbox %(value)s is not a longitude/latitude box with min < max."),
            code="bad_bbox",
            field="bbox",
            value=text[:100],
        )
    return x0, y0, x1, y1


def simplify_tolerance(zoom: int) -> float:
    """About half a screen pixel at ``zoom``, in degrees (256-px tiles)."""
    return 360.0 / (256 * 2**zoom) / 2


class RegisterViewSet(viewsets.ModelViewSet):
    """Scoped CRUD for one register model, writes through ``saver``."""

    model: ClassVar[type[Any]]
    saver: ClassVar[Any]
    renderer_classes = [FastJSONRenderer]
    # JSON (GeoJSON) bodies only: a form body answers 415 rather than half-parsed geometry.
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return self.model.objects.visible_to(self.request.user)

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS:
            code, territory = services._scope_code(obj)
            if not can_write(request.user, code, territory=territory):
                raise ScopeError(_("Your role on %(territory)s is read-only."), territory=code)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = self.saver(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.saver(
            actor=self.request.user, data=serializer.validated_data, instance=serializer.instance
        )

    def perform_destroy(self, instance: Any) -> None:
        services.delete_object(actor=self.request.user, instance=instance)

    @extend_schema(responses=s.ChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Every change of this object: who, when, before → after."""
        obj = self.get_object()
        changes = history.changes_of(self.model, obj.pk)
        return Response(s.ChangeSerializer(changes, many=True).data)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 204: None})
    @action(detail=True, methods=["post"], url_path=r"history/(?P<event_id>\d+)/undo")
    def undo(self, request: Request, pk: str | None = None, event_id: str = "") -> Response:
        """Undo one change of this object (the undo is itself recorded)."""
        obj = self.get_object()  # scope (404) and write permission (403)
        restored = history.undo_change(
            actor=request.user, model=self.model, pk=obj.pk, event_id=int(event_id)
        )
        if restored is None:
            return Response(status=204)
        return Response(self.get_serializer(restored).data)


class LayerViewSet(RegisterViewSet):
    """A register model with a geometry: lists are GeoJSON FeatureCollections."""

    geo_field: ClassVar[str]
    renderer_classes = [FastJSONRenderer, GeoJSONRenderer]
    pagination_class = FeaturePagination

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        bbox = self.request.query_params.get("bbox")
        if bbox:
            queryset = queryset.filter(**{f"{self.geo_field}__bboverlaps": parse_bbox(bbox)})
        return queryset

    @property
    def feature_paginator(self) -> FeaturePagination:
        paginator = self.paginator
        if not isinstance(paginator, FeaturePagination):
            raise TypeError("LayerViewSet needs FeaturePagination")
        return paginator

    def _zoom(self) -> int | None:
        text = self.request.query_params.get("zoom")
        if text in (None, ""):
            return None
        if not text.isdigit() or int(text) > 22:
            raise InvalidInputError(
                _("zoom %(value)s must be a whole number from 0 to 22."),
                code="bad_zoom",
                field="zoom",
                value=text[:20],
            )
        return int(text)

    def _property_fields(self) -> list[str]:
        meta = self.get_serializer_class().Meta  # type: ignore[attr-defined]
        hidden = set(getattr(meta, "list_exclude", ()))
        return [f for f in meta.fields if f not in (self.geo_field, "id", *hidden)]

    @extend_schema(parameters=[BBOX_PARAM, ZOOM_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset()).order_by("pk")
        zoom = self._zoom()
        geom: Any = self.geo_field
        if zoom is not None and zoom < MAX_SIMPLIFY_ZOOM:
            geom = SimplifyPreserveTopology(geom, simplify_tolerance(zoom))
        fields = self._property_fields()
        rows = queryset.values_list("pk", *fields, AsGeoJSON(geom, precision=7))
        fragment = orjson.Fragment
        features = [
            {
                "type": "Feature",
                "id": row[0],
                "geometry": fragment(row[-1]) if row[-1] else None,
                "properties": dict(zip(fields, row[1:-1])),  # noqa: B905 - same query, same width
            }
            for row in self.feature_paginator.paginate_rows(rows, request)
        ]
        return self.get_paginated_response(features)


class DistrictViewSet(LayerViewSet):
    model, saver, geo_field = District, staticmethod(services.save_district), "geom"
    serializer_class = s.DistrictSerializer


class StreetOfficeViewSet(LayerViewSet):
    model, saver, geo_field = StreetOffice, staticmethod(services.save_street_office), "geom"
    serializer_class = s.StreetOfficeSerializer

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        district = self.request.query_params.get("district")
        return super().filter_queryset(
            queryset.filter(district_id=district) if district else queryset
        )


class CommunityViewSet(LayerViewSet):
    model, saver, geo_field = Community, staticmethod(services.save_community), "geom"
    serializer_class = s.CommunitySerializer

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        prefix = self.request.query_params.get("code")
        return super().filter_queryset(
            queryset.filter(code__startswith=prefix) if prefix else queryset
        )


class CompoundViewSet(LayerViewSet):
    model, saver, geo_field = Compound, staticmethod(services.save_compound), "geom"
    serializer_class = s.CompoundSerializer


class BuildingViewSet(LayerViewSet):
    model, saver, geo_field = Building, staticmethod(services.save_building), "footprint"
    serializer_class = s.BuildingSerializer

    def get_serializer_class(self) -> type[Any]:
        return s.BuildingDetailSerializer if self.action == "retrieve" else s.BuildingSerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.select_related("community", "compound").prefetch_related(
                "entrances",
                "door_plates",
                Prefetch(
                    "rooms", Room.objects.select_related("landlord").order_by("-floor", "number")
                ),
            )
        return queryset


class DoorPlateViewSet(LayerViewSet):
    model, saver, geo_field = DoorPlate, staticmethod(services.save_door_plate), "location"
    serializer_class = s.DoorPlateSerializer

    @extend_schema(
        parameters=[
            BBOX_PARAM,
            ZOOM_PARAM,
            OpenApiParameter("q", OpenApiTypes.STR, description="partial address, e.g. 人民路12"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        text = self.request.query_params.get("q")
        if text:
            queryset = queryset.matching(text)  # type: ignore[attr-defined]
        return super().filter_queryset(queryset)


class EntranceViewSet(RegisterViewSet):
    model, saver = Entrance, staticmethod(services.save_entrance)
    serializer_class = s.EntranceSerializer


class RoomViewSet(RegisterViewSet):
    model, saver = Room, staticmethod(services.save_room)
    serializer_class = s.RoomSerializer

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        building = self.request.query_params.get("building")
        if building:
            if not building.isdigit():
                raise InvalidInputError(
                    _("building %(value)s must be a building id."),
                    code="bad_filter",
                    value=building[:20],
                )
            queryset = queryset.filter(building_id=int(building))
        return queryset

    @extend_schema(request=s.RoomSplitSerializer, responses={201: s.RoomSplitResultSerializer})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str | None = None) -> Response:
        """Split a room in two (``gis.services.split_room``): the room keeps ``numbers[0]``, a
        new room ``numbers[1]`` takes the other part. Answers 201 with both rooms."""
        room = self.get_object()  # scope (404) and write permission (403)
        body = s.RoomSplitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        first, second = body.validated_data["numbers"]
        rooms = services.split_room(
            actor=request.user,
            room=room,
            numbers=(first, second),
            line=body.validated_data.get("line"),
        )
        return Response({"rooms": s.RoomSerializer(rooms, many=True).data}, status=201)


class LandlordViewSet(RegisterViewSet):
    model, saver = Landlord, staticmethod(services.save_landlord)
    serializer_class = s.LandlordSerializer


class AddressParseView(APIView):
    """Split a written address into its standard parts (GB/T 35639) and say what was not parsed."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, required=True)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("q", "")
        if not text.strip() or len(text) > 300:
            raise InvalidInputError(
                _("Give an address of 1 to 300 characters in ?q=."), code="bad_address", field="q"
            )
        parsed = parse_address(text)
        return Response(
            {"parts": parsed.parts.__dict__, "unparsed": list(parsed.unparsed), "ok": parsed.ok}
        )


@extend_schema_view(get=extend_schema(responses=OpenApiTypes.OBJECT))
class MeView(APIView):
    """The signed-in user and their roles on territory nodes."""

    renderer_classes = [FastJSONRenderer]

    def get(self, request: Request) -> Response:
        user: Any = request.user
        grants = user.scope_grants.order_by("territory_code").values("role", "territory_code")
        return Response(
            {
                "username": user.get_username(),
                "is_superuser": user.is_superuser,
                "grants": list(grants),
            }
        )
