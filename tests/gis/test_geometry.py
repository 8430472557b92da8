"""Geometry input: every bad shape gets a named error; good input comes out in EPSG:4326."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import GEOSGeometry

from gis.exceptions import GeometryError
from gis.geometry import clean_geometry

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[112.1, 32.0], [112.2, 32.0], [112.2, 32.1], [112.1, 32.1], [112.1, 32.0]]],
}


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("{not json", "malformed_geojson", "not valid JSON"),
        ({"type": "Feature"}, "malformed_geojson", "Expected a GeoJSON geometry"),
        ([1, 2], "malformed_geojson", "got list"),
        (
            {"type": "Polygon", "coordinates": [[[112.1, 32.0], [112.2, 32.0]]]},
            "malformed_geojson",
            "cannot be read",
        ),
        ({"type": "Polygon", "coordinates": []}, "empty_geometry", "empty"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[112.1, 32.0], [112.2, 32.1], [112.1, 32.1], [112.2, 32.0], [112.1, 32.0]]
                ],
            },
            "invalid_geometry",
            "Self-intersection",
        ),
        (
            {"type": "Point", "coordinates": [112.1, 32.0]},
            "wrong_type",
            "Expected a Polygon, got a Point",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [38_500_000, 3_540_000],
                        [38_500_100, 3_540_000],
                        [38_500_100, 3_540_100],
                        [38_500_000, 3_540_000],
                    ]
                ],
            },
            "out_of_range",
            "look projected",
        ),
        (
            {**SQUARE, "crs": {"type": "name", "properties": {"name": "EPSG:2000"}}},
            "wrong_srid",
            "EPSG:2000 is not accepted",
        ),
        ({**SQUARE, "crs": {"type": "link"}}, "unknown_crs", "not understood"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[112.1, 32.0, 5], [112.2, 32.0, 5], [112.2, 32.1, 5], [112.1, 32.0, 5]]
                ],
            },
            "three_dimensional",
            "two-dimensional",
        ),
    ],
)
def test_bad_geometry_is_named(value, code, message):
    with pytest.raises(GeometryError, match=message) as err:
        clean_geometry(value, geom_type="Polygon")
    assert err.value.code == code
    assert err.value.render("zh-hans") != err.value.render("en")


def test_polygon_is_promoted_to_multipolygon():
    geom = clean_geometry(SQUARE, geom_type="MultiPolygon")
    assert geom.geom_type == "MultiPolygon" and geom.srid == 4326


def test_named_metric_crs_is_transformed_to_4326():
    # A 100 m square in CGCS2000 / 3-degree GK CM 111E around Xiangyang.
    x, y = 604_000, 3_543_000
    ring = [[x, y], [x + 100, y], [x + 100, y + 100], [x, y + 100], [x, y]]
    value = {
        "type": "Polygon",
        "coordinates": [ring],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}},
    }
    geom = clean_geometry(value, geom_type="Polygon")
    assert geom.srid == 4326
    lon, lat = geom.centroid.coords
    assert 112.0 < lon < 112.3 and 31.9 < lat < 32.2
    assert geom.transform(4546, clone=True).area == pytest.approx(10_000, rel=1e-6)


def test_coordinates_that_cannot_be_in_the_named_crs_are_refused():
    ring = [[1e12, 1e12], [1e12 + 1, 1e12], [1e12 + 1, 1e12 + 1], [1e12, 1e12]]
    value = {
        "type": "Polygon",
        "coordinates": [ring],
        "crs": {"type": "name", "properties": {"name": "EPSG:4546"}},
    }
    with pytest.raises(GeometryError) as err:
        clean_geometry(value, geom_type="Polygon")
    assert err.value.code in {"wrong_srid", "out_of_range"}


def test_geos_input_with_a_disallowed_srid_is_refused():
    with pytest.raises(GeometryError, match="EPSG:3395 is not accepted"):
        geom = GEOSGeometry(json.dumps(SQUARE))
        geom.srid = 3395
        clean_geometry(geom, geom_type="Polygon")
