"""Synthetic packs for the renderer tests: a street grid of blocks with buildings, rooms, plans
and a route, in metres near Xiangyang (CGCS2000 3-degree zone coordinates), no database."""

from __future__ import annotations

import datetime

from shapely.geometry import LineString, Point, box

from layers.sheets.pack import (
    BuildingItem,
    NamedArea,
    NamedLine,
    Pack,
    PackKind,
    Paper,
    PlanFloor,
    PlanRoom,
    RoomRow,
    RouteLeg,
)

ORIGIN = (38_440_000.0, 3_548_000.0)  # metres, EPSG:4546-like
STREET_NAMES = ["人民路", "解放路", "长征路", "中山路", "春园路", "檀溪路", "大庆路", "前进路"]


def rooms_for(building_id: int, floors: int, per_floor: int = 4) -> tuple[RoomRow, ...]:
    rows = []
    for floor in range(1, floors + 1):
        for k in range(1, per_floor + 1):
            number = f"{floor}{k:02d}"
            rows.append(
                RoomRow(
                    room_id=building_id * 1000 + floor * 10 + k,
                    entrance="1",
                    floor=floor,
                    number=number,
                    plate=f"1单元{number}室",
                    use="住宅",
                    rented=(k == 2),
                    last_visit=datetime.date(2026, 11, 20) if k % 3 else None,
                    last_outcome="已登记" if k % 3 else "",
                )
            )
    return tuple(rows)


def plan_for(floors: int) -> tuple[PlanFloor, ...]:
    return tuple(
        PlanFloor(
            floor=f,
            rooms=tuple(
                PlanRoom(number=f"{f}{k:02d}", outline=box(k * 6.0, 0, k * 6.0 + 6, 10))
                for k in range(1, 5)
            ),
        )
        for f in range(1, floors + 1)
    )


def synthetic_pack(
    *,
    blocks_x: int = 3,
    blocks_y: int = 2,
    per_block: int = 4,
    block_m: float = 120.0,
    floors: int = 3,
    with_plans: int = 1,
    kind: PackKind = PackKind.TEAM_DAY,
    paper: Paper = Paper.AUTO,
) -> Pack:
    """A grid of ``blocks_x × blocks_y`` blocks of ``block_m`` metres, streets between them,
    ``per_block`` buildings per block along its south side, a route visiting every building in
    order, the first ``with_plans`` buildings with room plans."""
    x0, y0 = ORIGIN
    street_gap = 20.0
    buildings: list[BuildingItem] = []
    route_points: list[tuple[float, float]] = [(x0 - 10, y0 - 10)]
    for by in range(blocks_y):
        for bx in range(blocks_x):
            left = x0 + bx * (block_m + street_gap)
            bottom = y0 + by * (block_m + street_gap)
            width = (block_m - 10) / per_block
            for k in range(per_block):
                bid = len(buildings) + 1
                fp = box(left + k * width + 2, bottom + 5, left + (k + 1) * width - 2, bottom + 25)
                buildings.append(
                    BuildingItem(
                        id=bid,
                        footprint=fp,
                        label=f"{bid}号",
                        address=f"襄阳市樊城区{STREET_NAMES[by % len(STREET_NAMES)]}{bid}号",
                        name=f"{bid}栋",
                        community="友谊社区",
                        zone="420606001001001",
                        floors=floors,
                        use="住宅",
                        url=f"http://127.0.0.1:8000/map/#b={bid}",
                        stop=bid,
                        day=1,
                        team="一组",
                        rooms=rooms_for(bid, floors),
                        plan=plan_for(floors) if bid <= with_plans else (),
                    )
                )
                route_points.append((fp.centroid.x, bottom))
    total_w = blocks_x * (block_m + street_gap)
    total_h = blocks_y * (block_m + street_gap)
    streets = [
        NamedLine(
            STREET_NAMES[i % len(STREET_NAMES)],
            LineString(
                [
                    (x0 - 20, y0 + i * (block_m + street_gap) - 10),
                    (x0 + total_w, y0 + i * (block_m + street_gap) - 10),
                ]
            ),
            "secondary",
        )
        for i in range(blocks_y + 1)
    ] + [
        NamedLine(
            f"{i + 1}号巷",
            LineString(
                [
                    (x0 + i * (block_m + street_gap) - 10, y0 - 20),
                    (x0 + i * (block_m + street_gap) - 10, y0 + total_h),
                ]
            ),
            "alley",
        )
        for i in range(blocks_x + 1)
    ]
    area = box(x0 - 30, y0 - 30, x0 + total_w + 10, y0 + total_h + 10)
    return Pack(
        kind=kind,
        title="2026年冬季清查 · 一组 · 第1天",
        made_on=datetime.date(2026, 12, 3),
        facts=[
            ("清查", "2026年冬季清查"),
            ("小组", "一组"),
            ("成员", "张三、李四"),
            ("日期", "2026-12-01 — 2026-12-05"),
        ],
        totals=[
            ("楼栋", str(len(buildings))),
            ("房间", str(sum(len(b.rooms) for b in buildings))),
            ("步行", "2.4 km"),
            ("工时", "5.5 h"),
        ],
        buildings=buildings,
        context=[box(x0 + 40, y0 + 60, x0 + 60, y0 + 80)],
        streets=streets,
        zones=[NamedArea("420606001001001", "一网格", area)],
        communities=[NamedArea("420606001001", "友谊社区", area.buffer(5))],
        routes=[RouteLeg("一组", 1, LineString(route_points))],
        start=Point(x0 - 10, y0 - 10),
        start_name="友谊社区服务站",
        overview=area.buffer(200),
        paper=paper,
    )
