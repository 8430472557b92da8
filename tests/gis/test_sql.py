from __future__ import annotations

import json

from gis.sql import building_geojson_rows


def test_building_geojson_rows_in_bbox(territory):
    rows = building_geojson_rows((112.11, 32.01, 112.115, 32.015))
    assert [pk for pk, _ in rows] == [territory.home_building.pk]
    assert json.loads(rows[0][1])["type"] == "Polygon"
    assert building_geojson_rows((100.0, 10.0, 100.1, 10.1)) == []
