"""Zone validation (save_zone), the coverage check, renumbering and staffing gaps.

The ``home`` community is the box 112.10–112.15 E × 32.00–32.05 N; its building stands at
112.111–112.112 E × 32.011–32.012 N.
"""

from __future__ import annotations

import datetime

import pytest

from gis.exceptions import NotFoundError, ScopeError, TerritoryError
from gis.models import Role, RoomUse
from grid import services
from grid.exceptions import (
    AssignmentError,
    BuildingCutError,
    ZoneError,
    ZoneOutsideCommunityError,
    ZoneOverlapError,
)
from grid.models import AssignmentRole, Zone

from ..conftest import Territory
from ..factories import BuildingFactory, RoomFactory, UserFactory, box, mbox
from .factories import AssignmentFactory, StaffFactory, ZoneFactory, draw_zone


def test_new_zones_are_numbered_in_sequence(territory: Territory) -> None:
    first = draw_zone(territory.home, box(112.10, 32.00, 112.11, 32.05))
    second = draw_zone(territory.home, box(112.11, 32.00, 112.12, 32.05))
    assert (first.code, second.code) == ("420606001001001", "420606001001002")
    assert first.geom.geom_type == "MultiPolygon"
    assert first.version == 1 and first.valid_to is None


def test_a_given_code_must_extend_the_community(territory: Territory) -> None:
    with pytest.raises(TerritoryError, match="does not extend its parent's code 420606001001"):
        draw_zone(territory.home, box(112.10, 32.00, 112.11, 32.05), code="420606001002001")


def test_a_retired_code_comes_back_as_a_new_version(territory: Territory) -> None:
    old = draw_zone(territory.home, box(112.10, 32.00, 112.11, 32.05))
    services.retire_zone(actor=None, zone=old)
    new = draw_zone(territory.home, box(112.10, 32.00, 112.12, 32.05), code=old.code)
    assert (new.code, new.version) == (old.code, 2)
    with pytest.raises(ZoneError, match="retired"):
        services.save_zone(actor=None, data={"name": "x"}, instance=old)


def test_a_zone_leaving_its_community_is_refused_with_the_outside_part(
    territory: Territory,
) -> None:
    with pytest.raises(ZoneOutsideCommunityError, match="leaves its community") as caught:
        draw_zone(territory.home, box(112.14, 32.00, 112.16, 32.01))
    assert caught.value.geometry is not None
    assert caught.value.geometry["type"] in ("Polygon", "MultiPolygon")
    assert not Zone.objects.exists()


def test_an_overlap_names_the_other_zones_and_shows_the_overlap(territory: Territory) -> None:
    a = draw_zone(territory.home, box(112.10, 32.00, 112.12, 32.02))
    b = draw_zone(territory.home, box(112.12, 32.00, 112.14, 32.02))
    with pytest.raises(ZoneOverlapError) as caught:
        draw_zone(territory.home, box(112.115, 32.015, 112.125, 32.03))
    message = str(caught.value)
    assert a.code in message and b.code in message
    assert caught.value.geometry is not None
    assert "重叠" in caught.value.render("zh-hans")


def test_a_touching_neighbour_is_not_an_overlap(territory: Territory) -> None:
    draw_zone(territory.home, box(112.10, 32.00, 112.12, 32.02))
    draw_zone(territory.home, box(112.12, 32.00, 112.14, 32.02))
    assert Zone.objects.count() == 2


def test_a_boundary_through_a_building_is_refused(territory: Territory) -> None:
    with pytest.raises(BuildingCutError, match=rf"\[{territory.home_building.pk}\]") as caught:
        draw_zone(territory.home, box(112.10, 32.00, 112.1115, 32.05))
    assert caught.value.geometry is not None


def test_a_worker_cannot_draw_in_another_community(territory: Territory) -> None:
    worker = UserFactory(username="w", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    with pytest.raises(ScopeError):
        services.save_zone(
            actor=worker,
            data={
                "community": territory.away,
                "name": "x",
                "geom": box(112.1, 32.06, 112.11, 32.07),
            },
        )


def test_coverage_check_finds_gap_overlap_uncovered_and_cut_buildings(
    territory: Territory,
) -> None:
    home = territory.home
    west = ZoneFactory(community=home, code="001", geom=mbox(112.10, 32.00, 112.12, 32.05))
    east = ZoneFactory(community=home, code="002", geom=mbox(112.119, 32.00, 112.13, 32.05))
    cut = BuildingFactory(footprint=box(112.1185, 32.02, 112.1205, 32.021))
    lonely = BuildingFactory(footprint=box(112.14, 32.02, 112.141, 32.021))

    report = services.coverage_check("420606")
    by_code = {c.code: c for c in report.communities}
    assert set(by_code) == {home.code, territory.away.code}
    result = by_code[home.code]
    assert not report.ok and not result.ok
    assert result.zones == 2
    # The gap east of 112.13: 0.02° × 0.05° of the community.
    assert result.uncovered_m2 == pytest.approx(result.area_m2 * 0.4, rel=0.01)
    assert result.uncovered_geometry is not None
    assert [o.zones for o in result.overlaps] == [(west.code, east.code)]
    assert result.overlaps[0].area_m2 == pytest.approx(result.area_m2 * 0.02, rel=0.02)
    assert [b.id for b in result.buildings_in_no_zone] == [lonely.pk]
    assert [b.id for b in result.buildings_cut] == [cut.pk]
    assert sorted(result.buildings_cut[0].zones) == [west.code, east.code]
    # The away community has no zone at all: all of it is uncovered, its building in no zone.
    away = by_code[territory.away.code]
    assert away.uncovered_m2 == pytest.approx(away.area_m2)
    assert [b.id for b in away.buildings_in_no_zone] == [territory.away_building.pk]


def test_coverage_check_of_a_fully_covered_community_is_ok(territory: Territory) -> None:
    draw_zone(territory.home, box(112.10, 32.00, 112.12, 32.05))
    draw_zone(territory.home, box(112.12, 32.00, 112.15, 32.05))
    report = services.coverage_check(territory.home.code)
    assert report.ok, report


def test_coverage_check_is_scoped(territory: Territory) -> None:
    worker = UserFactory(username="w", grants=[(Role.COMMUNITY_WORKER, territory.home.code)])
    assert [c.code for c in services.coverage_check("420606", user=worker).communities] == [
        territory.home.code
    ]
    with pytest.raises(NotFoundError):
        services.coverage_check(territory.away.code, user=worker)
    with pytest.raises(ZoneError, match="6, 9 or 12 digits"):
        services.coverage_check("42;--")


def test_renumber_zones_west_to_east(territory: Territory) -> None:
    east = draw_zone(territory.home, box(112.14, 32.00, 112.15, 32.05))
    west = draw_zone(territory.home, box(112.10, 32.00, 112.11, 32.05))
    middle = draw_zone(territory.home, box(112.12, 32.00, 112.13, 32.05))
    changes = services.renumber_zones(actor=None, community=territory.home)
    codes = {z.pk: z.code for z in Zone.objects.all()}
    assert [codes[z.pk][-3:] for z in (west, middle, east)] == ["001", "002", "003"]
    assert changes == {
        east.code: codes[east.pk],
        west.code: codes[west.pk],
        middle.code: codes[middle.pk],
    }
    assert services.renumber_zones(actor=None, community=territory.home) == {}


def test_staffing_gaps(territory: Territory) -> None:
    home, building = territory.home, territory.home_building
    for n in range(150):  # 150 households: 2 central household heads, 1 propagandist needed
        RoomFactory(building=building, floor=n % 6 + 1, number=f"R{n}", use=RoomUse.OWNER_OCCUPIED)
    RoomFactory(building=building, floor=1, number="shop", use=RoomUse.COMMERCIAL)
    staffed = ZoneFactory(community=home, code="001")
    bare = ZoneFactory(community=home, code="002", geom=mbox(112.12, 32.00, 112.15, 32.05))
    staff = StaffFactory(community=home)
    AssignmentFactory(staff=staff, zone=staffed, role=AssignmentRole.RESPONSIBLE)
    AssignmentFactory(staff=staff, role=AssignmentRole.CENTRAL_HOUSEHOLD_HEAD)
    AssignmentFactory(staff=staff, zone=staffed, role=AssignmentRole.INFORMATION_OFFICER)
    # Ended: does not count.
    AssignmentFactory(
        staff=staff,
        zone=bare,
        role=AssignmentRole.RESPONSIBLE,
        ends_on=datetime.date(2026, 2, 1),
    )

    report = services.staffing_gaps(home.code)
    (result,) = report.communities
    assert (result.households, result.residents) == (150, 393)
    shortages = {s.role: (s.needed, s.present, s.missing) for s in result.shortages}
    assert shortages == {
        "yard_propagandist": (1, 0, 1),
        "central_household_head": (2, 1, 1),
        "information_officer": (2, 1, 1),
    }
    assert [z["code"] for z in result.zones_without_responsible] == [bare.code]
    assert [b["id"] for b in result.buildings_without_head] == [building.pk]

    AssignmentFactory(staff=staff, role=AssignmentRole.BUILDING_HEAD, building=building)
    (result,) = services.staffing_gaps(home.code).communities
    assert result.buildings_without_head == []


def test_assignment_must_stay_in_the_staff_members_community(territory: Territory) -> None:
    staff = StaffFactory(community=territory.home)
    away_zone = ZoneFactory(
        community=territory.away, code="001", geom=mbox(112.1, 32.06, 112.11, 32.07)
    )
    with pytest.raises(AssignmentError, match="not a current zone"):
        services.save_assignment(
            actor=None,
            data={"staff": staff, "zone": away_zone, "role": AssignmentRole.RESPONSIBLE},
        )
    with pytest.raises(AssignmentError, match="building head is assigned to a building"):
        services.save_assignment(
            actor=None, data={"staff": staff, "role": AssignmentRole.BUILDING_HEAD}
        )
