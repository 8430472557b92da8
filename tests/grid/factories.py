"""Factories of the grids. ``ZoneFactory`` writes the row directly (no validation), so that tests
can set up the overlaps and cut buildings the coverage check must find."""

from __future__ import annotations

import datetime

import factory

from gis.models import Community
from grid import services
from grid.models import Assignment, AssignmentRole, Staff, Zone, ZoneKind

from ..factories import CommunityFactory, mbox


def draw_zone(community: Community, geom: object, name: str = "网格", **data: object) -> Zone:
    """A zone saved the way users save one (``grid.services.save_zone``, every check, numbered),
    unlike :class:`ZoneFactory`."""
    return services.save_zone(
        actor=None, data={"community": community, "name": name, "geom": geom, **data}
    )


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone

    community = factory.SubFactory(CommunityFactory)
    code = factory.Sequence(lambda n: f"{n % 999 + 1:03d}")
    name = factory.Sequence(lambda n: f"第{n + 1}网格")
    kind = ZoneKind.RESIDENT_GROUP
    geom = factory.LazyFunction(lambda: mbox(112.10, 32.00, 112.12, 32.05))

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Zone:
        community = kwargs["community"]
        code = str(kwargs["code"])
        if len(code) == 3:
            kwargs["code"] = community.code + code  # type: ignore[attr-defined]
        return super()._create(model_class, *args, **kwargs)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    name = factory.Sequence(lambda n: f"张{n}")
    phone = "13912345678"
    community = factory.SubFactory(CommunityFactory)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    staff = factory.SubFactory(StaffFactory)
    role = AssignmentRole.CENTRAL_HOUSEHOLD_HEAD
    starts_on = datetime.date(2026, 1, 1)
