"""``plategrid_gcj02_shift(geometry)``: a geometry moved by the GCJ-02 offset, for display only.

The offset is the one of ``gis.coords`` (same formulas, same China box), computed once per
geometry at its centroid and applied to the whole geometry with ``ST_Translate``: a point is
converted exactly as ``gis.coords.wgs84_to_gcj02`` converts it; a polygon keeps its shape and is
off by the change of the offset across it: at most 0.7 % of a vertex's east-west distance from
the centroid anywhere in China (0.2 % around Xiangyang), so centimetres on a building and metres at
the edge of a community (measured in docs/map.md). Used by the vector tiles when
``PLATEGRID_BASEMAP["crs"]`` is "gcj02"; never applied to stored data.
"""

from __future__ import annotations

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION plategrid_gcj02_shift(geom geometry) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  a CONSTANT double precision := 6378245.0;               -- Krasovsky 1940
  ee CONSTANT double precision := 0.00669342162296594323;
  c geometry := ST_Centroid(geom);
  lon double precision := ST_X(c);
  lat double precision := ST_Y(c);
  x double precision := lon - 105.0;
  y double precision := lat - 35.0;
  common double precision;
  d_lat double precision;
  d_lon double precision;
  rad_lat double precision;
  magic double precision;
  sqrt_magic double precision;
BEGIN
  IF lon IS NULL OR lon < 72.004 OR lon > 137.8347 OR lat < 0.8293 OR lat > 55.8271 THEN
    RETURN geom;  -- outside China (gis.coords.CHINA_BOX) the offset is zero
  END IF;
  common := (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0;
  d_lat := -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    + common
    + (20.0 * sin(y * pi()) + 40.0 * sin(y / 3.0 * pi())) * 2.0 / 3.0
    + (160.0 * sin(y / 12.0 * pi()) + 320.0 * sin(y * pi() / 30.0)) * 2.0 / 3.0;
  d_lon := 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    + common
    + (20.0 * sin(x * pi()) + 40.0 * sin(x / 3.0 * pi())) * 2.0 / 3.0
    + (150.0 * sin(x / 12.0 * pi()) + 300.0 * sin(x / 30.0 * pi())) * 2.0 / 3.0;
  rad_lat := lat / 180.0 * pi();
  magic := 1.0 - ee * sin(rad_lat) ^ 2;
  sqrt_magic := sqrt(magic);
  d_lat := d_lat * 180.0 / ((a * (1.0 - ee)) / (magic * sqrt_magic) * pi());
  d_lon := d_lon * 180.0 / (a / sqrt_magic * cos(rad_lat) * pi());
  RETURN ST_Translate(geom, d_lon, d_lat);
END
$$;
COMMENT ON FUNCTION plategrid_gcj02_shift(geometry) IS
  'plategrid: the geometry translated by the GCJ-02 offset at its centroid (display only)';
"""

DROP = "DROP FUNCTION IF EXISTS plategrid_gcj02_shift(geometry);"


class Migration(migrations.Migration):
    dependencies = [("geo", "0002_street")]

    operations = [migrations.RunSQL(CREATE, DROP)]
