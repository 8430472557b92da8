"""Regenerate the screenshots in docs/screenshots/ from a running demo server.

    DJANGO_SETTINGS_MODULE=web.settings.demo .venv/bin/python manage.py runserver 127.0.0.1:8001
    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8001 --user U --password P

``--only-sweeps`` takes only the sweep pages (sweep-*.png, desktop and phone: the demo sweep of
``manage.py demo_sweep``). ``--only-sheets`` takes only the field-pack page (sheets-*.png): a pack of the
first sweep's first team, day 1, made by the server's worker, with its download links. ``--only-field`` takes only the field page (field-*.png), as ``--field-user`` (default
``demo-worker``, a member of the demo sweep's team: ``manage.py demo_sweep``); nothing is sent.
The account must be able to open buildings in the admin (``demo-district`` can, and so can a
superuser). The phone screenshot of the index page is taken signed in as well.
The import screenshots upload a GeoJSON made from the user's own export (the server's worker
must run, as under ``make run``). Needs ``playwright`` (dev extras) and the Debian ``chromium`` package. Requests for any host other
than the server are blocked and listed; the script then exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page  # noqa: E402

from tests.web.browser import (  # noqa: E402
    PHONE,
    OfflineGuard,
    chromium,
    log_in,
    new_context,
    wait_for_map,
    wait_for_swagger,
)


def first_building_id(page: Page) -> str:
    response = page.goto("/admin/geo/building/")
    if response is None or response.status != 200:
        status = response.status if response else "no response"
        raise SystemExit(f"the building list answered {status}: use an account with admin rights")
    href = page.get_attribute("#result_list tbody tr a[href*='/change/']", "href")
    if not href:
        raise SystemExit("no building in the admin list: load the demo data first")
    return href.rstrip("/").split("/")[-2]


def sample_import(page: Page, folder: Path) -> Path:
    """A GeoJSON of some of the user's buildings as the export gives them, edited the way a
    surveyor's file would be: two buildings with a new storey count, one with its shape lost,
    one duplicated row and one building far outside the territory."""
    response = page.request.get("/exports/buildings.geojson")
    if not response.ok:
        raise SystemExit(f"the export answered {response.status}")
    doc = json.loads(response.body())
    features = doc["features"][:40]
    for feature in features[:2]:
        feature["properties"]["floors_above"] += 1
    features[2]["geometry"] = None
    features.append(json.loads(json.dumps(features[3])))
    far = json.loads(json.dumps(features[4]))
    far["id"] = far["properties"]["source_id"] = "survey:far-away"
    far["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[113.5, 31.0], [113.5003, 31.0], [113.5003, 31.0002], [113.5, 31.0002], [113.5, 31.0]]
        ],
    }
    features.append(far)
    path = folder / "楼栋核查.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def import_report(page: Page, upload: Path, out: Path, name: str) -> None:
    page.goto("/imports/")
    page.screenshot(path=out / "import-form.png", full_page=True)
    page.set_input_files("#id_file", str(upload))
    page.select_option("#id_kind", "buildings")
    page.click("button[type=submit]")
    page.wait_for_url("**/imports/*/")
    page.wait_for_selector(".figures", timeout=60_000)  # the page reloads when the job ends
    page.screenshot(path=out / name, full_page=True)


def map_pages(page: Page, out: Path, building: str, *, phone: bool = False) -> list[str]:
    """The map: the drawer with the territory and legend, a search, and a building's plan."""
    detail = page.request.get(f"/api/buildings/{building}/")
    if not detail.ok:
        raise SystemExit(f"building {building} answered {detail.status}")
    floors = detail.json()["properties"]["floors"]
    room = next((r["id"] for f in floors for r in f["rooms"]), None)
    names = []
    if not phone:
        page.goto("/map/")
        page.click("#btn-drawer")
        page.wait_for_selector("#tree li")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(800)  # the fit's animation and the tiles it asks for
        page.screenshot(path=out / "map-territory.png")
        names.append("map-territory.png")
        page.click("#btn-drawer")
        page.fill("#search", "路12")
        page.wait_for_selector("#search-results li")
        page.screenshot(path=out / "map-search.png")
        names.append("map-search.png")
        page.keyboard.press("Escape")
    # On a phone the sheet shows the plan; on a desktop a room is open beside it as well.
    page.goto(f"/map/#b={building}" + (f"&r={room}" if room and not phone else ""))
    page.wait_for_selector("#panel svg.plan")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)
    name = "map-building-phone.png" if phone else "map-building.png"
    page.screenshot(path=out / name)
    names.append(name)
    return names


def grid_pages(page: Page, out: Path, drawn: str, empty: str, *, phone: bool = False) -> list[str]:
    """The zone editor: ``drawn`` (a community with zones and chains) with its check and a zone's
    chain, a drawn zone that overlaps, and the automatic split of ``empty`` waiting to be applied.
    Nothing is saved: the overlap and the proposal are left unsaved."""

    def open_editor(code: str) -> None:
        page.goto(f"/grids/{code}/")
        page.wait_for_selector("#check h2")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(600)

    open_editor(drawn)
    if phone:
        page.screenshot(path=out / "grid-editor-phone.png")
        return ["grid-editor-phone.png"]
    page.click("#zone-list li:first-child button")
    page.wait_for_selector("#selected .chain")
    page.wait_for_timeout(600)
    page.screenshot(path=out / "grid-editor.png")
    # A zone drawn across two others: the check names the overlap and shows where it is.
    box = page.locator("#map").bounding_box()
    if box is None:
        raise SystemExit("the zone editor shows no map")
    page.click("[data-tool=draw]")
    cx, cy = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.55
    corners = [(cx - 70, cy - 50), (cx + 70, cy - 50), (cx + 70, cy + 50), (cx - 70, cy + 50)]
    for x, y in [*corners, corners[0]]:
        page.mouse.click(x, y)
    page.wait_for_selector("#check li.bad")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "grid-overlap.png")
    page.once("dialog", lambda dialog: dialog.accept())  # leaving with unsaved changes is fine
    open_editor(empty)
    page.click("#btn-partition")
    page.select_option("#partition select[name=mode]", "target_workload")
    page.fill("#partition input[name=amount]", "300")
    page.click("#partition button[type=submit]")
    page.wait_for_selector("#btn-apply", timeout=120_000)
    page.wait_for_timeout(600)
    page.screenshot(path=out / "grid-partition.png")
    return ["grid-editor.png", "grid-overlap.png", "grid-partition.png"]


def field_pages(
    browser: Browser, base_url: str, out: Path, user: str, password: str, locale: str
) -> tuple[list[str], OfflineGuard]:
    """The field page on a phone as a field worker (a member of an open sweep's team): the route,
    a building with a room ticked, and two visits recorded offline, waiting. Nothing is sent: the
    context closes with the two visits still in its queue."""
    context, guard = new_context(
        browser, base_url, viewport={"width": 375, "height": 800}, locale=locale
    )
    page = context.new_page()
    log_in(page, user, password, next_url="/field/")
    page.wait_for_selector("#sweep-list button.pick, #route:not([hidden])")
    if page.locator("#sweep-list button.pick").count():
        page.locator("#sweep-list button.pick").first.click()
    page.wait_for_selector("#next-stop button.next", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "field-route.png")
    page.click("#next-stop button.next")
    page.wait_for_selector("#building:not([hidden]) #rooms li")
    page.locator("#rooms li:not(.done) input").first.check()
    page.screenshot(path=out / "field-building.png")
    context.set_offline(True)
    for outcome in ("registered", "not_at_home"):
        left = page.locator("#rooms li:not(.done) input")
        if not left.count():
            break
        left.first.check()
        page.click(f"#outcomes [data-outcome={outcome}]")
        page.wait_for_timeout(1000)  # the buttons pause after a tap
    page.click("#btn-back")
    page.click("#queue-problems .waiting-list summary")
    page.wait_for_timeout(3200)  # the toast has gone
    page.screenshot(path=out / "field-offline.png")
    context.close()
    return ["field-route.png", "field-building.png", "field-offline.png"], guard


def sweep_pages(page: Page, out: Path, *, phone: bool = False) -> list[str]:
    """The sweep list with its form, and the first sweep's plan: a team's day unfolded, one of its
    buildings chosen (with the move tools), the coverage and gap lists below."""
    suffix = "-phone" if phone else ""
    page.goto("/sweeps/")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / f"sweep-list{suffix}.png", full_page=True)
    page.click("table.sweeps a")
    page.wait_for_selector("#days details.team-days", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.click("#days details.team-days > summary")
    page.click("#days details.day > summary")
    page.click("#days details.day ol.stops button")
    page.wait_for_timeout(800)  # the map pans to the building
    page.screenshot(path=out / f"sweep-plan{suffix}.png")
    page.select_option("#gap-kind", "revisits")
    page.wait_for_load_state("networkidle")
    page.locator("#gaps").scroll_into_view_if_needed()
    page.screenshot(path=out / f"sweep-gaps{suffix}.png")
    return [f"sweep-list{suffix}.png", f"sweep-plan{suffix}.png", f"sweep-gaps{suffix}.png"]


def sheet_pages(page: Page, out: Path, *, phone: bool = False) -> list[str]:
    """The field-pack page: on a desktop, a pack of the first sweep's first team (day 1) submitted
    and made (the server's worker must run), its download links shown; on a phone, the form and
    the list."""
    name = "sheets-phone.png" if phone else "sheets-desktop.png"
    page.goto("/sheets/")
    page.wait_for_load_state("networkidle")
    if not phone:
        page.select_option("#pack-day", index=1)
        page.click("#new-pack button[type=submit]")
        page.wait_for_selector("#packs li.pack:first-child a[data-format=pdf]", timeout=180_000)
        page.wait_for_timeout(3200)  # the toast has gone
    page.screenshot(path=out / name, full_page=True)
    return [name]


def coverage_pages(page: Page, out: Path, *, phone: bool = False) -> list[str]:
    """The coverage map: on a desktop, the district's communities for 30 days, then a street
    office drilled into with the gap heatmap and a gap layer; on a phone, the first view."""
    suffix = "-phone" if phone else ""
    page.goto("/coverage/?code=420602&level=community")
    page.wait_for_selector("#children li", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)  # the map's fit animation
    page.screenshot(path=out / f"coverage-map{suffix}.png", full_page=phone)
    if phone:
        page.goto("/coverage/dashboard/?code=420602001")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out / "coverage-dashboard-phone.png", full_page=True)
        return [f"coverage-map{suffix}.png", "coverage-dashboard-phone.png"]
    page.goto("/coverage/?code=420602001&days=90&heat=1&gaps=never_visited_buildings")
    page.wait_for_selector("#children li", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)
    page.screenshot(path=out / "coverage-gaps.png")
    page.goto("/coverage/dashboard/?code=420602001")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "coverage-dashboard.png", full_page=True)
    return [f"coverage-map{suffix}.png", "coverage-gaps.png", "coverage-dashboard.png"]


def register_pages(page: Page, out: Path, *, phone: bool = False) -> list[str]:
    """The people register (``manage.py demo_people``): on a desktop, a street office's
    communities, the building with the most residents of the first community, a person's file,
    the same file revealed (the account needs the reveal permission: ``demo-district``) and the
    registration form refusing a mistyped identity number; on a phone, the building and the file."""
    suffix = "-phone" if phone else ""
    names = []
    if not phone:
        page.goto("/register/?code=420602001")
        page.wait_for_selector(".reg-tree")
        page.screenshot(path=out / "register-tree.png", full_page=True)
        names.append("register-tree.png")
    page.goto("/register/?code=420602001001")
    rows = page.locator(".reg-tree tbody tr")
    counts = [int(rows.nth(i).locator("td").first.inner_text()) for i in range(rows.count())]
    busiest = rows.nth(counts.index(max(counts))).locator("th a").get_attribute("href")
    page.goto(str(busiest))
    page.wait_for_selector(".reg-room")
    page.screenshot(path=out / f"register-building{suffix}.png", full_page=True)
    names.append(f"register-building{suffix}.png")
    add = None
    for selector in (".reg-chips li.rented-empty a", ".reg-chips a", ".reg-add a"):
        if page.locator(selector).count():
            add = page.locator(selector).first.get_attribute("href")
            break
    page.click(".reg-household li a >> nth=0")
    page.wait_for_selector(".reg-file")
    page.screenshot(path=out / f"register-resident{suffix}.png", full_page=True)
    names.append(f"register-resident{suffix}.png")
    if phone:
        return names
    if page.locator("#reveal").count():
        page.fill("#reveal-reason", "核对来访人员身份")
        page.click("#reveal button[type=submit]")
        page.wait_for_selector("#id-number.revealed")
        page.screenshot(path=out / "register-reveal.png")
        names.append("register-reveal.png")
    if add:
        page.goto(add)
        page.fill("#id_name", "赵六")
        page.select_option("#id_category", "floating")
        page.fill("#id_id_number", "420602199505050010")  # a mistyped check digit
        page.fill("#id_phone", "13600003333")
        page.fill("#id_home_registration", "四川省成都市")
        page.fill("#id_employer", "汉江物流")
        page.click(".reg-form button[type=submit]")
        page.wait_for_selector(".field-error")
        page.screenshot(path=out / "register-form-error.png", full_page=True)
        names.append("register-form-error.png")
    return names


def report(guards: list[OfflineGuard], out: Path, written: list[str]) -> int:
    """Blocked outside requests and failures on stderr (status 1 for the former), then the files."""
    status = 0
    for guard in guards:
        for url in guard.outside:
            print(f"BLOCKED outside request: {url}", file=sys.stderr)
            status = 1
        for problem in guard.failed + guard.page_errors + guard.console_errors:
            print(f"problem: {problem}", file=sys.stderr)
    for name in written:
        print(out / name)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8001")
    parser.add_argument("--user", default="demo-district")
    parser.add_argument("--password", default="plategrid-demo")
    parser.add_argument("--building", help="building id for the map (default: first in the list)")
    parser.add_argument("--locale", default="zh-CN")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--grid-community", default="420602001001", help="one with zones")
    parser.add_argument("--split-community", default="420602001003", help="one to split")
    parser.add_argument(
        "--only-grids", action="store_true", help="only the zone editor (the worker must run)"
    )
    parser.add_argument(
        "--only-field",
        action="store_true",
        help="only the field page, as --field-user (a member of an open sweep's team)",
    )
    parser.add_argument("--field-user", default="demo-worker")
    parser.add_argument(
        "--only-sweeps", action="store_true", help="only the sweep pages (a sweep must exist)"
    )
    parser.add_argument(
        "--only-sheets",
        action="store_true",
        help="only the field-pack page (a planned sweep must exist, the worker must run)",
    )
    parser.add_argument("--only-coverage", action="store_true", help="only the coverage map")
    parser.add_argument(
        "--only-register", action="store_true", help="only the people register's pages"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    guards: list[OfflineGuard] = []
    if args.only_field:
        with chromium() as browser:
            names, guard = field_pages(
                browser, args.base_url, args.out, args.field_user, args.password, args.locale
            )
        return report([guard], args.out, names)

    # One page's screenshots, on a desktop and on a phone, each in a guarded context.
    only = {
        "sheets": (args.only_sheets, "/sheets/", sheet_pages),
        "coverage": (args.only_coverage, "/coverage/", coverage_pages),
        "register": (args.only_register, "/register/", register_pages),
        "sweeps": (args.only_sweeps, "/sweeps/", sweep_pages),
    }
    for wanted, first_url, take in only.values():
        if not wanted:
            continue
        written = []
        with chromium() as browser:
            for viewport in (None, PHONE):
                context, guard = new_context(
                    browser, args.base_url, viewport=viewport, locale=args.locale
                )
                guards.append(guard)
                page = context.new_page()
                log_in(page, args.user, args.password, next_url=first_url)
                written += take(page, args.out, phone=viewport is not None)
                context.close()
        return report(guards, args.out, written)

    with chromium() as browser:
        context, guard = new_context(browser, args.base_url, locale=args.locale)
        guards.append(guard)
        page = context.new_page()
        log_in(page, args.user, args.password)
        written: list[str] = []
        if not args.only_grids:
            building = args.building or first_building_id(page)
            page.goto(f"/admin/geo/building/{building}/change/")
            wait_for_map(page, "id_footprint_map")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)  # let OpenLayers finish drawing the base layer
            page.screenshot(path=args.out / "admin-building-map.png", full_page=True)

            page.goto("/api/docs/")
            wait_for_swagger(page)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=args.out / "api-docs.png")

            with tempfile.TemporaryDirectory() as folder:
                upload = sample_import(page, Path(folder))
                import_report(page, upload, args.out, "import-report.png")
            written += ["admin-building-map.png", "api-docs.png", "import-form.png"]
            written += ["import-report.png", *map_pages(page, args.out, building)]
        written += grid_pages(page, args.out, args.grid_community, args.split_community)
        written += sweep_pages(page, args.out)
        context.close()

        context, guard = new_context(browser, args.base_url, viewport=PHONE, locale=args.locale)
        guards.append(guard)
        page = context.new_page()
        log_in(page, args.user, args.password)
        if not args.only_grids:
            page.goto("/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=args.out / "index-phone.png", full_page=True)
            page.goto("/imports/")
            page.click("table a")  # the latest import's report
            page.wait_for_selector(".figures")
            page.screenshot(path=args.out / "import-report-phone.png", full_page=True)
            written += ["index-phone.png", "import-report-phone.png"]
            written += map_pages(page, args.out, building, phone=True)
        written += grid_pages(page, args.out, args.grid_community, "", phone=True)
        context.close()

    return report(guards, args.out, written)


if __name__ == "__main__":
    raise SystemExit(main())
