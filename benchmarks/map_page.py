"""The map page in a browser: is it still smooth with a whole district loaded?

Headless Chromium (Debian's, software rendering: a slow device, not a fast one) opens ``/map/``
on the middle of the community with the most buildings, signed in as the administrator of its
district, and after the first full render flies a scripted tour: zoom 15 → 17.5 over four
seconds, then pans around at z16 and z17. Every animation frame's interval is recorded in the page (``requestAnimationFrame``), and
OpenLayers' ``rendercomplete`` gives the time until the map is fully drawn. The same tour on the
``demo`` size (2,000 buildings; the district has 50,000) is the baseline: what is on screen is
alike, the register behind it is 25 times larger.

Figures per size: ``first_render_s`` (page load to the first ``rendercomplete``), ``frames``,
``frame_p50_ms``, ``frame_p95_ms``, ``long_frames_pct`` (frames over 50 ms), ``tiles`` (tile
requests during the tour); ``ratio`` is the district's frame p95 over the demo's (≈ 1: the page
does not slow down with the size of the register). Tiles are not cached on the server (test
settings), so the tour also waits for the database.

Uses the scratch databases of ``benchmarks/map_tiles.py`` (made on first use, reused after).
Usage: .venv/bin/python benchmarks/map_page.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _setup import ROOT, figure, percentile, session_key, setup_django

# Frame intervals, collected in the page.
FRAMES_JS = """() => {
  window.__frames = [];
  let last = performance.now();
  function tick(now) { window.__frames.push(now - last); last = now; window.__raf = requestAnimationFrame(tick); }
  window.__raf = requestAnimationFrame(tick);
}"""
TOUR_JS = """async ([lon, lat, quick]) => {
  const map = window.plategridMap, view = map.getView();
  const at = (dx, dy) => ol.proj.fromLonLat([lon + dx, lat + dy]);
  const fly = (options) => new Promise((done) => view.animate(options, done));
  await fly({ center: at(0, 0), zoom: 17.5, duration: quick ? 1500 : 4000 });
  await fly({ zoom: 16, duration: 800 });
  const steps = quick ? [[0.004, 0], [0.004, -0.003]] : [[0.004, 0], [0.004, -0.003], [-0.004, -0.003], [-0.004, 0.003], [0, 0]];
  for (const [dx, dy] of steps) await fly({ center: at(dx, dy), duration: 1200 });
  await fly({ zoom: 17, duration: 800 });
  for (const [dx, dy] of steps) await fly({ center: at(dx / 2, dy / 2), duration: 1200 });
  await new Promise((done) => map.once("rendercomplete", done));
  cancelAnimationFrame(window.__raf);
  return window.__frames;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter tour")
    args = parser.parse_args()
    setup_django()

    from django.db import connection

    results = {}
    for size in ("demo", "district"):
        connection.close()
        connection.settings_dict["NAME"] = f"plategrid_bench_tiles_{size}"
        results[size] = tour(size, quick=args.quick)
        for name, value in results[size].items():
            figure(f"{size}_{name}", value)
    figure("ratio", f"{results['district']['frame_p95_ms'] / results['demo']['frame_p95_ms']:.2f}")


def tour(size: str, *, quick: bool) -> dict[str, Any]:
    """Load the scratch database of ``size`` if needed, serve it, and fly the tour."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connection
    from django.db.models import Count
    from django.test.testcases import LiveServerThread
    from map_tiles import prepare_database
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from gis.models import Building, Role, ScopeGrant
    from tests.web.browser import DESKTOP, chromium, new_context

    prepare_database(connection, size, fresh=False)
    # The community with the most buildings: the tour flies over its middle.
    counts = (
        Building.objects.values("community__code")
        .annotate(n=Count("id"))
        .order_by("-n", "community__code")
    )
    community = counts[0]["community__code"]
    centre = Building.objects.filter(community__code=community).values_list("centroid", flat=True)
    xs, ys = zip(*((p.x, p.y) for p in centre), strict=True)
    lon, lat = statistics.median(xs), statistics.median(ys)
    user, _ = get_user_model().objects.get_or_create(username="benchmark-map-page")
    ScopeGrant.objects.get_or_create(
        user=user, role=Role.DISTRICT_ADMIN, territory_code=community[:6]
    )
    session = session_key(user)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    try:
        with chromium() as browser:
            context, guard = new_context(browser, base, viewport=DESKTOP)
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
            )
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"/map/#map=15/{lon:.6f}/{lat:.6f}")
            if not page.url.split("#")[0].endswith("/map/"):
                raise SystemExit(f"the map did not open: {page.url} {guard.failed[:3]}")
            try:
                page.wait_for_function("() => window.plategridMap !== undefined")
            except PlaywrightTimeout:
                raise SystemExit(
                    f"no map: {guard.failed[:5]} {guard.page_errors} {guard.console_errors[:5]}"
                ) from None
            page.evaluate(
                "() => new Promise((done) => window.plategridMap.once('rendercomplete', done))"
            )
            first_render_s = time.perf_counter() - started
            before = sum("/tiles/" in url for url in guard.requests)
            page.evaluate(FRAMES_JS)
            frames = [f for f in page.evaluate(TOUR_JS, [lon, lat, quick]) if f > 0]
            tiles = sum("/tiles/" in url for url in guard.requests) - before
            if guard.outside or guard.page_errors:
                raise SystemExit(f"outside requests or errors: {guard.outside} {guard.page_errors}")
            context.close()
    finally:
        server.terminate()
    return {
        "buildings": Building.objects.count(),
        "first_render_s": f"{first_render_s:.2f}",
        "frames": len(frames),
        "frame_p50_ms": round(percentile(frames, 50), 1),
        "frame_p95_ms": round(percentile(frames, 95), 1),
        "long_frames_pct": f"{100 * sum(f > 50 for f in frames) / len(frames):.1f}",
        "tiles": tiles,
    }


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))  # tests.web.browser
    main()
