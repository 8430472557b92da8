"""Coverage kept incrementally: ``RoomVisitState.last_seen_on`` and the triggers that keep
``grid_coveragecount`` exact (docs/visits.md).

Every room is counted in exactly one row (area, rented, last seen day or NULL). The area is the
current zone of the building's community whose boundary covers the building's ``centroid``
(PointOnSurface; the lowest code when several do), else the community code.

* ``geo_room`` INSERT / DELETE / UPDATE: statement-level triggers with transition tables (bulk
  COPY loads pay one grouped statement, not a trigger call per row);
* ``geo_building`` UPDATE: a footprint moving the centroid (or the community) moves its rooms;
* ``grid_roomvisitstate`` INSERT / UPDATE OF last_seen_on / DELETE: row-level, one visit at a time;
* zones: ``grid_coverage_rebuild(community_code)`` recounts one community, called by
  ``grid.coverage.rebuild_communities`` after zone changes (and by a trigger when a current zone
  is deleted outright);
* ``grid_sweeproom`` DELETE (a target room deleted with its room): out of its sweep's
  ``grid_sweepcount`` row.

Concurrency: every change of a community's rows first takes a shared transaction-level advisory
lock on the community (namespace 73011) and only then, in a new statement (a new snapshot), works
out the areas; a rebuild takes the exclusive lock, so it waits for every writer that applied a
change, and writers that come later apply their change on top of the recount. Rows are updated
one key at a time in one global order (area, rented, day with NULL first), so two transactions
never wait for each other in a cycle. Rows falling to 0 are deleted.
"""

from django.conf import settings
from django.db import migrations, models

RENTED = "('rented_whole', 'rented_shared')"  # gis.models.RENTED_USES, as of this migration

FORWARD = """
CREATE TYPE grid_coverage_delta AS (area_code varchar(15), rented boolean, day date, rooms bigint);

-- The area a building's rooms are counted in: its zone, else its community.
CREATE FUNCTION grid_area_code(p_community_id bigint, p_point geometry) RETURNS varchar
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(
    (SELECT z.code FROM grid_zone z
      WHERE z.community_code = c.code AND z.valid_to IS NULL AND ST_Covers(z.geom, p_point)
      ORDER BY z.code LIMIT 1),
    c.code)
    FROM geo_community c WHERE c.id = p_community_id
$$;

-- Shared locks on communities (sorted), taken before any area is worked out.
CREATE FUNCTION grid_coverage_lock(p_codes text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE code text;
BEGIN
  FOR code IN SELECT DISTINCT u FROM unnest(p_codes) u WHERE u IS NOT NULL ORDER BY u LOOP
    PERFORM pg_advisory_xact_lock_shared(73011, hashtext(code));
  END LOOP;
END $$;

-- Add the deltas, one key at a time in key order; rows falling to 0 go.
CREATE FUNCTION grid_coverage_apply(p_deltas grid_coverage_delta[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
  FOR d IN
    SELECT x.area_code, x.rented, x.day, sum(x.rooms)::bigint AS rooms
      FROM unnest(p_deltas) x
     GROUP BY 1, 2, 3 HAVING sum(x.rooms) <> 0
     ORDER BY 1, 2, 3 NULLS FIRST
  LOOP
    IF d.rooms > 0 THEN
      INSERT INTO grid_coveragecount (area_code, rented, last_visited_on, rooms)
      VALUES (d.area_code, d.rented, d.day, d.rooms)
      ON CONFLICT ON CONSTRAINT coverage_count_key
      DO UPDATE SET rooms = grid_coveragecount.rooms + EXCLUDED.rooms;
    ELSE
      UPDATE grid_coveragecount SET rooms = rooms + d.rooms
       WHERE area_code = d.area_code AND rented = d.rented
         AND last_visited_on IS NOT DISTINCT FROM d.day;
      IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
          CONSTRAINT = 'coverage_count_exact',
          MESSAGE = format('coverage count %s/%s/%s missing: run manage.py rebuild_coverage',
                           d.area_code, d.rented, d.day);
      END IF;
      DELETE FROM grid_coveragecount
       WHERE area_code = d.area_code AND rented = d.rented
         AND last_visited_on IS NOT DISTINCT FROM d.day AND rooms = 0;
    END IF;
  END LOOP;
END $$;

CREATE FUNCTION grid_coverage_room_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM grid_coverage_lock(ARRAY(
    SELECT DISTINCT c.code FROM new_rows r JOIN geo_building b ON b.id = r.building_id
      JOIN geo_community c ON c.id = b.community_id));
  PERFORM grid_coverage_apply(ARRAY(
    WITH a AS (SELECT b.id, grid_area_code(b.community_id, b.centroid) AS area
                 FROM geo_building b WHERE b.id IN (SELECT building_id FROM new_rows))
    SELECT ROW(a.area, r.use IN {RENTED}, s.last_seen_on, count(*))::grid_coverage_delta
      FROM new_rows r JOIN a ON a.id = r.building_id
      LEFT JOIN grid_roomvisitstate s ON s.room_id = r.id
     GROUP BY a.area, r.use IN {RENTED}, s.last_seen_on));
  RETURN NULL;
END $$;

CREATE FUNCTION grid_coverage_room_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM grid_coverage_lock(ARRAY(
    SELECT DISTINCT c.code FROM old_rows r JOIN geo_building b ON b.id = r.building_id
      JOIN geo_community c ON c.id = b.community_id));
  PERFORM grid_coverage_apply(ARRAY(
    WITH a AS (SELECT b.id, grid_area_code(b.community_id, b.centroid) AS area
                 FROM geo_building b WHERE b.id IN (SELECT building_id FROM old_rows))
    SELECT ROW(a.area, r.use IN {RENTED}, s.last_seen_on, -count(*))::grid_coverage_delta
      FROM old_rows r JOIN a ON a.id = r.building_id
      LEFT JOIN grid_roomvisitstate s ON s.room_id = r.id
     GROUP BY a.area, r.use IN {RENTED}, s.last_seen_on));
  RETURN NULL;
END $$;

CREATE FUNCTION grid_coverage_room_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                  WHERE o.building_id <> n.building_id
                     OR (o.use IN {RENTED}) <> (n.use IN {RENTED})) THEN
    RETURN NULL;
  END IF;
  PERFORM grid_coverage_lock(ARRAY(
    SELECT c.code FROM old_rows o JOIN new_rows n ON n.id = o.id
      JOIN geo_building b ON b.id IN (o.building_id, n.building_id)
      JOIN geo_community c ON c.id = b.community_id
     WHERE o.building_id <> n.building_id OR (o.use IN {RENTED}) <> (n.use IN {RENTED})));
  PERFORM grid_coverage_apply(ARRAY(
    WITH m AS (SELECT o.building_id AS b_old, n.building_id AS b_new,
                      o.use IN {RENTED} AS r_old, n.use IN {RENTED} AS r_new, s.last_seen_on AS day
                 FROM old_rows o JOIN new_rows n ON n.id = o.id
                 LEFT JOIN grid_roomvisitstate s ON s.room_id = n.id
                WHERE o.building_id <> n.building_id
                   OR (o.use IN {RENTED}) <> (n.use IN {RENTED})),
         a AS (SELECT b.id, grid_area_code(b.community_id, b.centroid) AS area FROM geo_building b
                WHERE b.id IN (SELECT b_old FROM m UNION SELECT b_new FROM m))
    SELECT ROW(ao.area, m.r_old, m.day, -1)::grid_coverage_delta FROM m JOIN a ao ON ao.id = m.b_old
    UNION ALL
    SELECT ROW(an.area, m.r_new, m.day, 1)::grid_coverage_delta FROM m JOIN a an ON an.id = m.b_new));
  RETURN NULL;
END $$;

CREATE FUNCTION grid_coverage_building_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE moved bigint[];
BEGIN
  moved := ARRAY(
    SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE o.community_id <> n.community_id OR NOT ST_OrderingEquals(o.centroid, n.centroid));
  IF cardinality(moved) = 0 THEN
    RETURN NULL;
  END IF;
  PERFORM grid_coverage_lock(ARRAY(
    SELECT c.code FROM old_rows o JOIN geo_community c ON c.id = o.community_id
     WHERE o.id = ANY(moved)
    UNION SELECT c.code FROM new_rows n JOIN geo_community c ON c.id = n.community_id
     WHERE n.id = ANY(moved)));
  PERFORM grid_coverage_apply(ARRAY(
    WITH a AS (SELECT n.id, grid_area_code(o.community_id, o.centroid) AS area_old,
                      grid_area_code(n.community_id, n.centroid) AS area_new
                 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.id = ANY(moved)),
         r AS (SELECT a.area_old, a.area_new, r.use IN {RENTED} AS rented, s.last_seen_on AS day,
                      count(*) AS rooms
                 FROM geo_room r JOIN a ON a.id = r.building_id
                 LEFT JOIN grid_roomvisitstate s ON s.room_id = r.id
                WHERE a.area_old <> a.area_new
                GROUP BY 1, 2, 3, 4)
    SELECT ROW(area_old, rented, day, -rooms)::grid_coverage_delta FROM r
    UNION ALL
    SELECT ROW(area_new, rented, day, rooms)::grid_coverage_delta FROM r));
  RETURN NULL;
END $$;

-- One room's last seen day moved from p_old to p_new (a visit, or its state going).
CREATE FUNCTION grid_coverage_move_room(p_room bigint, p_old date, p_new date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE b_community bigint; b_centroid geometry; rented boolean; code text; area text;
BEGIN
  SELECT b.community_id, b.centroid, r.use IN {RENTED}, c.code
    INTO b_community, b_centroid, rented, code
    FROM geo_room r JOIN geo_building b ON b.id = r.building_id
    JOIN geo_community c ON c.id = b.community_id
   WHERE r.id = p_room;
  IF NOT FOUND THEN
    RETURN;  -- the room went first: its delete counted it with the state it had then
  END IF;
  PERFORM pg_advisory_xact_lock_shared(73011, hashtext(code));
  area := grid_area_code(b_community, b_centroid);  -- after the lock: zones as committed now
  PERFORM grid_coverage_apply(ARRAY[
    ROW(area, rented, p_old, -1)::grid_coverage_delta,
    ROW(area, rented, p_new, 1)::grid_coverage_delta]);
END $$;

CREATE FUNCTION grid_coverage_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.last_seen_on IS NOT NULL THEN
      PERFORM grid_coverage_move_room(NEW.room_id, NULL, NEW.last_seen_on);
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM grid_coverage_move_room(NEW.room_id, OLD.last_seen_on, NEW.last_seen_on);
  ELSIF OLD.last_seen_on IS NOT NULL THEN
    PERFORM grid_coverage_move_room(OLD.room_id, OLD.last_seen_on, NULL);
  END IF;
  RETURN NULL;
END $$;

-- Recount one community's rows from scratch (after its zones changed).
CREATE FUNCTION grid_coverage_rebuild(p_community text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(73011, hashtext(p_community));
  DELETE FROM grid_coveragecount WHERE area_code LIKE p_community || '%';
  INSERT INTO grid_coveragecount (area_code, rented, last_visited_on, rooms)
  SELECT a.area, r.use IN {RENTED}, s.last_seen_on, count(*)
    FROM (SELECT b.id, grid_area_code(b.community_id, b.centroid) AS area
            FROM geo_building b JOIN geo_community c ON c.id = b.community_id
           WHERE c.code = p_community) a
    JOIN geo_room r ON r.building_id = a.id
    LEFT JOIN grid_roomvisitstate s ON s.room_id = r.id
   GROUP BY 1, 2, 3;
END $$;

-- Target rooms going (their room deleted from the register): out of their sweep's counts.
-- The team is the plan in force's; a building whose plan stop went first is left to the next
-- rebuild_sweep_counts (never a count below 0).
CREATE FUNCTION grid_sweep_room_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE sweep bigint;
BEGIN
  FOR sweep IN SELECT DISTINCT sweep_id FROM old_rows ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock_shared(73012, (sweep % 2147483647)::int);
  END LOOP;
  WITH gone AS (
    SELECT o.sweep_id, o.area_code,
           (SELECT ps.team_id FROM grid_planstop ps
             WHERE ps.building_id = o.building_id
               AND ps.plan_id = (SELECT p.id FROM grid_sweepplan p WHERE p.sweep_id = o.sweep_id
                                  ORDER BY p.version DESC LIMIT 1)) AS team_id,
           o.first_visited_at IS NOT NULL AS visited,
           o.first_visited_at IS NULL AND o.attempts >= s.revisit_attempts AS flagged,
           o.first_visited_at IS NULL AND o.attempts > 0 AND o.attempts < s.revisit_attempts
             AS revisit
      FROM old_rows o JOIN grid_sweep s ON s.id = o.sweep_id),
  d AS (
    SELECT sweep_id, team_id, area_code, count(*) AS t, count(*) FILTER (WHERE visited) AS v,
           count(*) FILTER (WHERE revisit) AS r, count(*) FILTER (WHERE flagged) AS f
      FROM gone GROUP BY 1, 2, 3)
  UPDATE grid_sweepcount c
     SET targets = c.targets - d.t, visited = c.visited - d.v,
         revisits = c.revisits - d.r, flagged = c.flagged - d.f
    FROM d
   WHERE c.sweep_id = d.sweep_id AND c.team_id IS NOT DISTINCT FROM d.team_id
     AND c.area_code = d.area_code AND c.targets >= d.t AND c.visited >= d.v
     AND c.revisits >= d.r AND c.flagged >= d.f;
  RETURN NULL;
END $$;

CREATE TRIGGER grid_sweep_room_delete AFTER DELETE ON grid_sweeproom
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION grid_sweep_room_delete();
-- A current zone deleted outright (the API's DELETE, undoing a creation): recount its community.
-- Saving, retiring and renumbering zones recount from Python (grid.coverage.zones_changed).
CREATE FUNCTION grid_coverage_zone_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM grid_coverage_rebuild(code)
     FROM (SELECT DISTINCT community_code AS code FROM old_rows WHERE valid_to IS NULL
            ORDER BY 1) c;
  RETURN NULL;
END $$;

CREATE TRIGGER grid_coverage_zone_delete AFTER DELETE ON grid_zone
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION grid_coverage_zone_delete();
CREATE TRIGGER grid_coverage_room_insert AFTER INSERT ON geo_room
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION grid_coverage_room_insert();
CREATE TRIGGER grid_coverage_room_delete AFTER DELETE ON geo_room
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION grid_coverage_room_delete();
CREATE TRIGGER grid_coverage_room_update AFTER UPDATE ON geo_room
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION grid_coverage_room_update();
CREATE TRIGGER grid_coverage_building_update AFTER UPDATE ON geo_building
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION grid_coverage_building_update();
CREATE TRIGGER grid_coverage_state_insert AFTER INSERT ON grid_roomvisitstate
  FOR EACH ROW EXECUTE FUNCTION grid_coverage_state_change();
CREATE TRIGGER grid_coverage_state_update AFTER UPDATE OF last_seen_on ON grid_roomvisitstate
  FOR EACH ROW WHEN (OLD.last_seen_on IS DISTINCT FROM NEW.last_seen_on)
  EXECUTE FUNCTION grid_coverage_state_change();
CREATE TRIGGER grid_coverage_state_delete AFTER DELETE ON grid_roomvisitstate
  FOR EACH ROW EXECUTE FUNCTION grid_coverage_state_change();

-- Existing data: every community counted once.
DELETE FROM grid_coveragecount;
SELECT grid_coverage_rebuild(code) FROM geo_community ORDER BY code;
"""
FORWARD = FORWARD.replace("{RENTED}", RENTED)

BACKWARD = """
DROP TRIGGER IF EXISTS grid_coverage_zone_delete ON grid_zone;
DROP FUNCTION IF EXISTS grid_coverage_zone_delete();
DROP TRIGGER IF EXISTS grid_sweep_room_delete ON grid_sweeproom;
DROP FUNCTION IF EXISTS grid_sweep_room_delete();
DROP TRIGGER IF EXISTS grid_coverage_room_insert ON geo_room;
DROP TRIGGER IF EXISTS grid_coverage_room_delete ON geo_room;
DROP TRIGGER IF EXISTS grid_coverage_room_update ON geo_room;
DROP TRIGGER IF EXISTS grid_coverage_building_update ON geo_building;
DROP TRIGGER IF EXISTS grid_coverage_state_insert ON grid_roomvisitstate;
DROP TRIGGER IF EXISTS grid_coverage_state_update ON grid_roomvisitstate;
DROP TRIGGER IF EXISTS grid_coverage_state_delete ON grid_roomvisitstate;
DROP FUNCTION IF EXISTS grid_coverage_rebuild(text);
DROP FUNCTION IF EXISTS grid_coverage_state_change();
DROP FUNCTION IF EXISTS grid_coverage_move_room(bigint, date, date);
DROP FUNCTION IF EXISTS grid_coverage_building_update();
DROP FUNCTION IF EXISTS grid_coverage_room_update();
DROP FUNCTION IF EXISTS grid_coverage_room_delete();
DROP FUNCTION IF EXISTS grid_coverage_room_insert();
DROP FUNCTION IF EXISTS grid_coverage_apply(grid_coverage_delta[]);
DROP FUNCTION IF EXISTS grid_coverage_lock(text[]);
DROP FUNCTION IF EXISTS grid_area_code(bigint, geometry);
DROP TYPE IF EXISTS grid_coverage_delta;
DELETE FROM grid_coveragecount;
"""

# Existing visit states: the last seen day from the visits (local date, settings.TIME_ZONE).
SEEN = """
UPDATE grid_roomvisitstate s SET last_seen_on = v.day
  FROM (SELECT room_id, max(visited_at) AS t FROM grid_visit
         WHERE room_id IS NOT NULL AND outcome NOT IN ('not_at_home', 'refused')
         GROUP BY room_id) x
  CROSS JOIN LATERAL (SELECT (x.t AT TIME ZONE '{TIME_ZONE}')::date AS day) v
 WHERE s.room_id = x.room_id;
"""
SEEN = SEEN.replace("{TIME_ZONE}", settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [("grid", "0003_sweeps_visits")]

    operations = [
        migrations.AddField(
            model_name="roomvisitstate",
            name="last_seen_on",
            field=models.DateField(blank=True, null=True, verbose_name="last seen on"),
        ),
        migrations.RunSQL([SEEN], migrations.RunSQL.noop),
        migrations.RunSQL([FORWARD], [BACKWARD]),
    ]
