"""GeoJSON building layer: the API against the bare SQL of the same rows, in the same run.

For a bbox holding about N buildings (1,000 full, 200 with --quick) it times
  - the API list endpoint ``/api/buildings/?bbox=…&page_size=N`` called as a WSGI server calls it
    (the whole Django stack: middleware, session cookie auth, scope filter, paging, properties,
    JSON rendering; no test-client instrumentation), signed in as a superuser (``api``) and as a
    district administrator whose scope filter is part of the query (``api_scoped``), and
  - ``SELECT id, ST_AsGeoJSON(footprint) … WHERE footprint && bbox`` fetched by psycopg,
and prints p50/p95 of each and their ratio (target: ratio ≤ 3).

Runs on the demo database (``make run`` loads it; loaded here when empty).
Usage: .venv/bin/python benchmarks/api_buildings.py [--quick] [--repeats R]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _setup import figure, percentile, session_key, setup_django, wsgi_get


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 200 buildings, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    setup_django()

    from django.contrib.auth import get_user_model
    from django.contrib.gis.db.models import Extent
    from django.contrib.gis.db.models.functions import Distance
    from django.contrib.gis.geos import Point
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db.models import Count

    from gis.models import Building, Role, ScopeGrant
    from gis.sql import building_geojson_rows

    target = 200 if args.quick else 1000
    repeats = args.repeats or (20 if args.quick else 60)
    call_command("migrate", verbosity=0)
    call_command("demo_city", "--if-empty")

    # The district with the most buildings, and the bbox of the `target` buildings nearest the
    # middle of its buildings (the district administrator below sees the same rows).
    district_code = (
        Building.objects.values("community__street_office__district__code")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("community__street_office__district__code", flat=True)[0]
    )
    in_district = Building.objects.filter(community__code__startswith=district_code)
    extent = in_district.aggregate(e=Extent("footprint"))["e"]
    middle = Point((extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2, srid=4326)
    nearest = (
        in_district.annotate(d=Distance("centroid", middle))
        .order_by("d")
        .values_list("pk", flat=True)[:target]
    )
    bbox = Building.objects.filter(pk__in=list(nearest)).aggregate(e=Extent("footprint"))["e"]
    bbox_text = ",".join(f"{v:.7f}" for v in bbox)
    in_bbox = len(building_geojson_rows(bbox))

    application = WSGIHandler()
    query = f"bbox={bbox_text}&page_size=5000"

    def session_of(username: str, **flags: bool) -> str:
        user, _ = get_user_model().objects.update_or_create(username=username, defaults=flags)
        return session_key(user)

    superuser_session = session_of("benchmark-superuser", is_superuser=True)
    # A district administrator: the scope filter (community code prefix) is part of the query.
    scoped_session = session_of("benchmark-district")
    ScopeGrant.objects.get_or_create(
        user=get_user_model().objects.get(username="benchmark-district"),
        role=Role.DISTRICT_ADMIN,
        territory_code=district_code,
    )

    def api(session: str) -> int:
        return len(wsgi_get(application, "/api/buildings/", session=session, query=query))

    def sql() -> int:
        return len(building_geojson_rows(bbox))

    api_bytes = api(superuser_session)
    assert api(scoped_session) == api_bytes, "the district administrator sees other buildings"
    sql()
    runs: dict[str, Callable[[], int]] = {
        "sql": sql,
        "api": lambda: api(superuser_session),
        "api_scoped": lambda: api(scoped_session),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so that drifts of the machine hit all three alike
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - started) * 1000)
    api_times, sql_times, scoped_times = times["api"], times["sql"], times["api_scoped"]

    figure("buildings_in_bbox", in_bbox)
    figure("response_bytes", api_bytes)
    figure("repeats", repeats)
    figure("api_p50_ms", f"{percentile(api_times, 50):.1f}")
    figure("api_p95_ms", f"{percentile(api_times, 95):.1f}")
    figure("sql_p50_ms", f"{percentile(sql_times, 50):.1f}")
    figure("sql_p95_ms", f"{percentile(sql_times, 95):.1f}")
    figure("api_scoped_p50_ms", f"{percentile(scoped_times, 50):.1f}")
    figure("api_scoped_p95_ms", f"{percentile(scoped_times, 95):.1f}")
    figure("ratio_scoped", f"{percentile(scoped_times, 50) / percentile(sql_times, 50):.2f}")
    figure("ratio_p95", f"{percentile(api_times, 95) / percentile(sql_times, 95):.2f}")
    figure("ratio", f"{percentile(api_times, 50) / percentile(sql_times, 50):.2f}")


if __name__ == "__main__":
    main()
