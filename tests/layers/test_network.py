"""The network map (``layers.network``): a well-formed SVG with every current zone, its chain with
masked phones, the zones without a responsible person marked, escaped text, and the scope.

The ``home`` community (112.10–112.15 E × 32.00–32.05 N) is split into four zones by
:func:`build_network`: 001 west half, 002 south-east, 003 north-east (no responsible person) and
004, a sliver too narrow for its label (placed beside it with a leader line).
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
import shapely
from django.contrib.gis.geos import LineString
from django.utils import translation

from gis.exceptions import NotFoundError
from gis.models import Role, Street, StreetKind
from grid.models import AssignmentRole, Zone
from layers.network import network_chains, network_svg, zone_colours

from ..conftest import Territory
from ..factories import UserFactory, mbox
from ..grid.factories import AssignmentFactory, StaffFactory, ZoneFactory

SVG = "{http://www.w3.org/2000/svg}"
ON = datetime.date(2026, 6, 1)


@dataclass
class NetworkWorld:
    zones: list[Zone]


def build_network(territory: Territory) -> NetworkWorld:
    """Four zones of ``home`` with their chains (see the module's docstring), a building head and
    a street; the responsible person of zone 003 left on 2026-02-01."""
    home = territory.home
    zones = [
        ZoneFactory(
            community=home, code="001", name="第一网格", geom=mbox(112.10, 32.00, 112.12, 32.05)
        ),
        ZoneFactory(
            community=home, code="002", name="第二网格", geom=mbox(112.12, 32.00, 112.15, 32.03)
        ),
        ZoneFactory(
            community=home, code="003", name="第三网格", geom=mbox(112.12, 32.03, 112.149, 32.05)
        ),
        ZoneFactory(
            community=home, code="004", name="窄条", geom=mbox(112.149, 32.03, 112.15, 32.05)
        ),
    ]

    def assign(zone: Zone | None, role: str, name: str, phone: str, **extra: object) -> None:
        staff = StaffFactory(community=home, name=name, phone=phone)
        AssignmentFactory(staff=staff, zone=zone, role=role, **extra)

    assign(zones[0], AssignmentRole.RESPONSIBLE, "张三", "13912345678")
    assign(zones[0], AssignmentRole.COORDINATOR, "李四", "13800001111")
    assign(zones[0], AssignmentRole.INFORMATION_OFFICER, "王五", "13600003333")
    assign(zones[1], AssignmentRole.RESPONSIBLE, "<script>alert(1)</script>", "13700002222")
    assign(zones[2], AssignmentRole.COORDINATOR, "赵六", "13500004444")
    assign(
        zones[2],
        AssignmentRole.RESPONSIBLE,
        "周九",
        "13300006666",
        ends_on=datetime.date(2026, 2, 1),
    )
    assign(zones[3], AssignmentRole.RESPONSIBLE, "钱七", "13400005555")
    assign(
        None,
        AssignmentRole.BUILDING_HEAD,
        "孙八",
        "13200007777",
        building=territory.home_building,
    )
    Street.objects.create(
        name="人民路",
        kind=StreetKind.ARTERIAL,
        district=territory.office.district,
        centerline=LineString((112.09, 32.025), (112.16, 32.025), srid=4326),
    )
    return NetworkWorld(zones)


@pytest.fixture
def world(territory: Territory) -> NetworkWorld:
    return build_network(territory)


def parse_svg(svg: str) -> ET.Element:
    """The SVG's root element (our own output, parsed by the standard library)."""
    return ET.fromstring(svg)  # noqa: S314


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _label(root: ET.Element, code: str) -> ET.Element:
    (group,) = [g for g in root.iter(f"{SVG}g") if g.get("data-code") == code]
    return group


def test_svg_shows_every_zone_and_its_chain(territory: Territory, world: NetworkWorld, users):
    with translation.override("zh-hans"):
        svg = network_svg(territory.home, user=users[Role.COMMUNITY_WORKER], on=ON)
    root = parse_svg(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("297mm", "210mm")  # A4 landscape
    codes = [p.get("data-code") for p in root.iter(f"{SVG}path") if p.get("class") == "zone"]
    assert codes == [z.code for z in world.zones]
    texts = _texts(root)
    assert "001 第一网格" in texts
    assert "责任人 张三 139****5678" in texts
    assert "协管员 李四 138****1111" in texts
    assert "信息员 王五 136****3333" in texts
    assert "协管员 赵六 135****4444" in texts
    assert "人口" not in svg  # nothing of the map page's legend
    assert "人民路" in texts
    assert "人民路社区" in texts
    assert "420606001001" in " ".join(texts)
    # No full phone anywhere, and the ended assignment is not shown.
    assert re.findall(r"1[3-9]\d{9}", svg) == []
    assert "周九" not in svg


def test_zone_without_responsible_person_is_hatched_and_labelled(
    territory: Territory, world: NetworkWorld, users
):
    with translation.override("en"):
        svg = network_svg(territory.home, user=users[Role.COMMUNITY_WORKER], on=ON)
    root = parse_svg(svg)
    hatched = [p for p in root.iter(f"{SVG}path") if p.get("class") == "no-responsible"]
    assert len(hatched) == 1
    assert "no responsible person" in _texts(_label(root, world.zones[2].code))
    assert "no responsible person" not in _texts(_label(root, world.zones[0].code))
    # Before the responsible person of 003 left, the zone had one.
    with translation.override("en"):
        earlier = parse_svg(
            network_svg(
                territory.home, user=users[Role.COMMUNITY_WORKER], on=datetime.date(2026, 1, 15)
            )
        )
    assert [p for p in earlier.iter(f"{SVG}path") if p.get("class") == "no-responsible"] == []
    assert "responsible person 周九 133****6666" in _texts(_label(earlier, world.zones[2].code))


def test_names_are_escaped(territory: Territory, world: NetworkWorld, users):
    svg = network_svg(territory.home, user=users[Role.COMMUNITY_WORKER], on=ON)
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    texts = _texts(_label(parse_svg(svg), world.zones[1].code))
    assert any("<script>alert(1)</script> 137****2222" in t for t in texts)


def test_neighbouring_zones_have_different_colours(
    territory: Territory, world: NetworkWorld, users
):
    root = parse_svg(network_svg(territory.home, user=users[Role.COMMUNITY_WORKER], on=ON))
    fill = {
        p.get("data-code"): p.get("fill")
        for p in root.iter(f"{SVG}path")
        if p.get("class") == "zone"
    }
    z1, z2, z3, z4 = (z.code for z in world.zones)
    for a, b in [(z1, z2), (z1, z3), (z2, z3), (z3, z4), (z2, z4)]:
        assert fill[a] != fill[b], (a, b)


def test_small_zone_label_gets_a_leader_line(territory: Territory, world: NetworkWorld, users):
    root = parse_svg(network_svg(territory.home, user=users[Role.COMMUNITY_WORKER], on=ON))
    assert list(_label(root, world.zones[3].code).iter(f"{SVG}line")) != []
    assert list(_label(root, world.zones[0].code).iter(f"{SVG}line")) == []
    # Label boxes do not overlap.
    boxes = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "zone-label":
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            x, y, w, h = (float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
            boxes.append(shapely.box(x, y, x + w, y + h))
    assert len(boxes) == 4
    assert all(not a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_chains_for_the_page(territory: Territory, world: NetworkWorld, users):
    with translation.override("en"):
        network = network_chains(territory.home, user=users[Role.READ_ONLY], on=ON)
    assert [z.code for z in network.zones] == [z.code for z in world.zones]
    assert [(p.role_label, p.name, p.phone, p.since) for p in network.zones[0].people] == [
        ("responsible person", "张三", "139****5678", datetime.date(2026, 1, 1)),
        ("coordinator", "李四", "138****1111", datetime.date(2026, 1, 1)),
        ("information officer", "王五", "136****3333", datetime.date(2026, 1, 1)),
    ]
    assert [z.has_responsible for z in network.zones] == [True, True, False, True]
    assert [(h.name, h.phone) for h in network.building_heads] == [("孙八", "132****7777")]


def test_out_of_scope_community_is_not_found(territory: Territory, world: NetworkWorld):
    outsider = UserFactory(
        username="away-worker", grants=[(Role.COMMUNITY_WORKER, territory.away.code)]
    )
    with pytest.raises(NotFoundError, match="420606001001"):
        network_svg(territory.home, user=outsider, on=ON)


def test_many_zones_take_an_a3_sheet(territory: Territory, users):
    for i in range(13):
        x = 112.10 + i * 0.05 / 13
        ZoneFactory(
            community=territory.home, code=f"{i + 1:03d}", geom=mbox(x, 32.00, x + 0.05 / 13, 32.05)
        )
    root = parse_svg(network_svg(territory.home, user=users[Role.COMMUNITY_WORKER], on=ON))
    assert (root.get("width"), root.get("height")) == ("420mm", "297mm")


def test_zone_colours_differ_between_neighbours_in_a_grid() -> None:
    squares = [shapely.box(x, y, x + 1, y + 1) for x in range(4) for y in range(4)]
    colours = zone_colours(squares)
    for i, a in enumerate(squares):
        for j, b in enumerate(squares):
            if i != j and a.distance(b) < 0.5:  # edge or corner neighbours
                assert colours[i] != colours[j]


def test_community_without_zones_draws_its_outline(territory: Territory, users):
    with translation.override("en"):
        svg = network_svg(territory.away, user=users[Role.STREET_SUPERVISOR], on=ON)
    root = parse_svg(svg)
    assert [p for p in root.iter(f"{SVG}path") if p.get("class") == "zone"] == []
    assert [p for p in root.iter(f"{SVG}path") if p.get("class") == "community"] != []
    assert "0 zones, 0 without a responsible person" in _texts(root)
    assert "长虹社区" in _texts(root)
