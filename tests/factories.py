"""Factories for the register: short WKT with an explicit SRID, codes that nest."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon

from gis.models import (
    Building,
    Community,
    Compound,
    CompoundKind,
    District,
    Entrance,
    Landlord,
    Room,
    ScopeGrant,
    StreetOffice,
)


def box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return GEOSGeometry(f"SRID=4326;POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))")


def mbox(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon(box(x0, y0, x1, y1), srid=4326)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = "420606"
    name = "樊城区"
    geom = factory.LazyFunction(lambda: mbox(112.10, 32.00, 112.20, 32.10))


class StreetOfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StreetOffice
        django_get_or_create = ("code",)

    district = factory.SubFactory(DistrictFactory)
    code = factory.LazyAttribute(lambda o: o.district.code + "001")
    name = "汉江街道"
    geom = factory.LazyFunction(lambda: mbox(112.10, 32.00, 112.15, 32.10))


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community
        django_get_or_create = ("code",)

    street_office = factory.SubFactory(StreetOfficeFactory)
    code = factory.LazyAttribute(lambda o: o.street_office.code + "001")
    name = "人民路社区"
    geom = factory.LazyFunction(lambda: mbox(112.10, 32.00, 112.15, 32.05))


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Compound

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"春园{n}小区")
    kind = CompoundKind.CLOSED_PROPERTY
    geom = factory.LazyFunction(lambda: mbox(112.11, 32.01, 112.12, 32.02))


class BuildingFactory(factory.django.DjangoModelFactory):
    """The community is derived by the database from the footprint."""

    class Meta:
        model = Building

    footprint = factory.LazyFunction(lambda: box(112.111, 32.011, 112.112, 32.012))
    floors_above = 6
    floors_below = 1

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Building:
        building = super()._create(model_class, *args, **kwargs)
        building.refresh_from_db()
        return building


class EntranceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entrance

    building = factory.SubFactory(BuildingFactory)
    number = "1"


class LandlordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Landlord

    name = "王芳"
    phone = "13812345678"
    community = factory.SubFactory(CommunityFactory)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    building = factory.SubFactory(BuildingFactory)
    floor = 3
    number = factory.Sequence(lambda n: f"3{n % 100:02d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def grants(
        self, create: bool, extracted: list[tuple[str, str]] | None, **kwargs: object
    ) -> None:
        for role, code in extracted or []:
            ScopeGrant.objects.create(user=self, role=role, territory_code=code)
        self.save()
