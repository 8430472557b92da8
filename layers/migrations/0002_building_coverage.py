"""Per-building coverage (``layers.models.BuildingCoverage``), kept by triggers for the coverage
tiles and gap lists (docs/coverage.md).

Measured on the district-size benchmark database (50,000 buildings, 553,000 rooms, 70 % of them
with a visit state): the densest z12 gap tile took 1.0 s joining buildings → rooms → visit states
(264,000 rooms, each looked up in the visit states), 0.1–0.15 s reading one row per building from
here. The price: each change of a room's last seen day updates its building's row, about 0.35 ms
more (the grid's own coverage upkeep costs about 0.5 ms).

* ``grid_roomvisitstate`` INSERT / UPDATE OF last_seen_on / DELETE: row-level, one visit at a
  time: the building's sorted day arrays lose the old day and gain the new one (one UPDATE);
* ``geo_room`` INSERT / DELETE / UPDATE (of building or rented-ness): statement-level with
  transition tables; the buildings touched are recounted from their rooms.
Concurrency: a recount first makes sure the building's row exists and locks it, and only then,
in a new statement (a new snapshot), counts: a visit updating the row meanwhile waits for it and
applies its change on top (UPDATE re-reads the row it waited for).
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

RENTED = "('rented_whole', 'rented_shared')"  # gis.models.RENTED_USES, as of this migration

FORWARD = """
-- Room for a row's next version on its own page: a visit's update is HOT (no index entry).
ALTER TABLE layers_buildingcoverage SET (fillfactor = 70);

-- A sorted day array with one p_old less and one p_new more (either may be NULL: nothing).
CREATE FUNCTION layers_dates_move(p_days date[], p_old date, p_new date) RETURNS date[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(d ORDER BY d), '{}') FROM (
    SELECT d FROM unnest(p_days) WITH ORDINALITY u(d, k)
     WHERE k <> coalesce(array_position(p_days, p_old), 0)
    UNION ALL
    SELECT p_new WHERE p_new IS NOT NULL) s
$$;

-- The figures of the buildings p_ids that have rooms, counted from their rooms.
CREATE FUNCTION layers_coverage_rows(p_ids bigint[])
RETURNS TABLE (building_id bigint, rooms integer, rented_rooms integer, seen date[],
               rented_seen date[])
LANGUAGE sql STABLE AS $$
  SELECT r.building_id, count(*)::integer,
         count(*) FILTER (WHERE r.use IN {RENTED})::integer,
         coalesce(array_agg(s.last_seen_on ORDER BY s.last_seen_on)
                  FILTER (WHERE s.last_seen_on IS NOT NULL), '{}'),
         coalesce(array_agg(s.last_seen_on ORDER BY s.last_seen_on)
                  FILTER (WHERE s.last_seen_on IS NOT NULL AND r.use IN {RENTED}), '{}')
    FROM geo_room r LEFT JOIN grid_roomvisitstate s ON s.room_id = r.id
   WHERE r.building_id = ANY(p_ids)
   GROUP BY r.building_id
$$;

-- Recount the buildings p_ids; p_create: make the rows of those still without one (rooms
-- added), else only rows that exist are recounted (rooms deleted, maybe with their building).
CREATE FUNCTION layers_coverage_recount(p_ids bigint[], p_create boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_create THEN
    INSERT INTO layers_buildingcoverage (building_id, rooms, rented_rooms, seen, rented_seen)
    SELECT b.id, 0, 0, '{}', '{}' FROM geo_building b WHERE b.id = ANY(p_ids) ORDER BY b.id
    ON CONFLICT (building_id) DO NOTHING;
  END IF;
  PERFORM 1 FROM layers_buildingcoverage
    WHERE building_id = ANY(p_ids) ORDER BY building_id FOR UPDATE;
  UPDATE layers_buildingcoverage c
     SET rooms = coalesce(n.rooms, 0), rented_rooms = coalesce(n.rented_rooms, 0),
         seen = coalesce(n.seen, '{}'), rented_seen = coalesce(n.rented_seen, '{}')
    FROM unnest(p_ids) AS i(id) LEFT JOIN layers_coverage_rows(p_ids) n ON n.building_id = i.id
   WHERE c.building_id = i.id;
END $$;

CREATE FUNCTION layers_coverage_room_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM layers_coverage_recount(ARRAY(SELECT DISTINCT building_id FROM new_rows), true);
  RETURN NULL;
END $$;

CREATE FUNCTION layers_coverage_room_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM layers_coverage_recount(ARRAY(SELECT DISTINCT building_id FROM old_rows), false);
  RETURN NULL;
END $$;

CREATE FUNCTION layers_coverage_room_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE moved bigint[];
BEGIN
  moved := ARRAY(
    SELECT DISTINCT b FROM old_rows o JOIN new_rows n ON n.id = o.id,
           unnest(ARRAY[o.building_id, n.building_id]) b
     WHERE o.building_id <> n.building_id
        OR (o.use IN {RENTED}) <> (n.use IN {RENTED}));
  IF cardinality(moved) > 0 THEN
    PERFORM layers_coverage_recount(moved, true);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION layers_coverage_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v_room bigint; v_old date; v_new date;
BEGIN
  IF TG_OP = 'INSERT' THEN
    v_room := NEW.room_id; v_new := NEW.last_seen_on;
  ELSIF TG_OP = 'UPDATE' THEN
    v_room := NEW.room_id; v_old := OLD.last_seen_on; v_new := NEW.last_seen_on;
  ELSE
    v_room := OLD.room_id; v_old := OLD.last_seen_on;
  END IF;
  IF v_old IS NOT DISTINCT FROM v_new THEN
    RETURN NULL;
  END IF;
  UPDATE layers_buildingcoverage c
     SET seen = layers_dates_move(c.seen, v_old, v_new),
         rented_seen = CASE WHEN r.use IN {RENTED}
                            THEN layers_dates_move(c.rented_seen, v_old, v_new)
                            ELSE c.rented_seen END
    FROM geo_room r
   WHERE r.id = v_room AND c.building_id = r.building_id;
  RETURN NULL;  -- no room (it went first): its delete recounted the building without it
END $$;

CREATE TRIGGER layers_coverage_room_insert AFTER INSERT ON geo_room
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION layers_coverage_room_insert();
CREATE TRIGGER layers_coverage_room_delete AFTER DELETE ON geo_room
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION layers_coverage_room_delete();
CREATE TRIGGER layers_coverage_room_update AFTER UPDATE ON geo_room
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION layers_coverage_room_update();
CREATE TRIGGER layers_coverage_state_insert AFTER INSERT ON grid_roomvisitstate
  FOR EACH ROW EXECUTE FUNCTION layers_coverage_state_change();
CREATE TRIGGER layers_coverage_state_update AFTER UPDATE OF last_seen_on ON grid_roomvisitstate
  FOR EACH ROW WHEN (OLD.last_seen_on IS DISTINCT FROM NEW.last_seen_on)
  EXECUTE FUNCTION layers_coverage_state_change();
CREATE TRIGGER layers_coverage_state_delete AFTER DELETE ON grid_roomvisitstate
  FOR EACH ROW EXECUTE FUNCTION layers_coverage_state_change();

-- The rows of the buildings there are.
INSERT INTO layers_buildingcoverage (building_id, rooms, rented_rooms, seen, rented_seen)
SELECT n.* FROM geo_building b
  CROSS JOIN LATERAL layers_coverage_rows(ARRAY[b.id]) n;
""".replace("{RENTED}", RENTED)

BACKWARD = """
DROP TRIGGER layers_coverage_room_insert ON geo_room;
DROP TRIGGER layers_coverage_room_delete ON geo_room;
DROP TRIGGER layers_coverage_room_update ON geo_room;
DROP TRIGGER layers_coverage_state_insert ON grid_roomvisitstate;
DROP TRIGGER layers_coverage_state_update ON grid_roomvisitstate;
DROP TRIGGER layers_coverage_state_delete ON grid_roomvisitstate;
DROP FUNCTION layers_coverage_state_change();
DROP FUNCTION layers_coverage_room_update();
DROP FUNCTION layers_coverage_room_delete();
DROP FUNCTION layers_coverage_room_insert();
DROP FUNCTION layers_coverage_recount(bigint[], boolean);
DROP FUNCTION layers_coverage_rows(bigint[]);
DROP FUNCTION layers_dates_move(date[], date, date);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0004_search_indexes"),
        ("grid", "0004_coverage"),
        ("layers", "0001_sheet_jobs"),
    ]

    operations = [
        migrations.CreateModel(
            name="BuildingCoverage",
            fields=[
                (
                    "building",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="coverage",
                        serialize=False,
                        to="geo.building",
                        verbose_name="building",
                    ),
                ),
                ("rooms", models.PositiveIntegerField(default=0, verbose_name="rooms")),
                (
                    "rented_rooms",
                    models.PositiveIntegerField(default=0, verbose_name="rented rooms"),
                ),
                (
                    "seen",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DateField(),
                        default=list,
                        size=None,
                        verbose_name="days last seen",
                    ),
                ),
                (
                    "rented_seen",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DateField(),
                        default=list,
                        size=None,
                        verbose_name="days last seen (rented rooms)",
                    ),
                ),
            ],
            options={
                "verbose_name": "building coverage",
                "verbose_name_plural": "building coverage",
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
