"""The people register at city size: lookup by identity number, a community's register export,
and what encryption and access logging cost on a list request.

Data (a scratch database of its own, ``plategrid_bench_registry_<size>``, loaded once and reused,
see ``_setup.scratch_city``): the demo city of the size, then its people written in bulk by
``data.city.people`` (the demo's generator: ~1 million residents at ``city`` size, with
households, occupancy histories, follow-ups, contracts, star ratings and supplies; kept until the
generator's version, the keyring or the seeded schedules and criteria change, or
``--fresh-people``). The benchmark has a keyring of its own (``var/keys/bench-registry.json``).

Requests go through the whole Django stack (``django.test.Client``: middleware, session, DRF
view; DEBUG off), signed in as
  - a district administrator of the district of the community with the most floating residents
    (``place``), holding the reveal permission: lookups;
  - a community worker of ``place`` holding the reveal permission: lists and exports.

(a) ``POST /api/registry/residents/search-id/`` {id_number, reason} (``resident-search-id``) for
    ``--lookups`` numbers (200; 10 % valid numbers nobody has), p50/p95 ms; logged each.
(b) the floating-population register of ``place`` and of its street office (``register_office``),
    ``GET /api/registry/registers/floating.xlsx`` and ``.pdf`` (``register-floating``, masked,
    logged), ``--export-reps`` times after a first call: ms and bytes.
(c) The resident list ``GET /api/registry/residents/?community=<place>`` (masked), the same
    register with ``reveal=1`` (the clear numbers and phones of every row, logged), and a page of
    100 residents revealed through the services (``registry.services.reveal_fields`` per row and
    one ``log_access``: what a revealed list costs, whether the API offers one or not), each with
    encryption and access logging ON (as deployed) and both OFF, interleaved call by call.
    OFF, for the benchmark process only: ``registry.crypto.decrypt`` answers from a plaintext
    copy of the community's identity numbers and phones held in memory (decrypted once,
    untimed) — the same columns read, nothing decrypted — and ``registry.crypto.keyring`` raises,
    so an OFF call that still reached for a key would fail instead of being timed;
    ``registry.privacy.log_access`` is a no-op (every module that imported it is patched). The
    stored rows are the same in both (so the ciphertext's width stays in the OFF timings).
    ``<name>_ratio`` = p50 ON / p50 OFF (target ≤ 1.5), ``<name>_ratio_p95`` likewise;
    ``--reps`` rounds (the revealed register: a fifth of them, at least 3), fewer for a request
    whose rounds took over ``--budget`` seconds (at least 3).

(Named ``people_register.py``, not ``registry.py``: mypy, run over ``benchmarks/`` with the
``registry`` package, refuses two modules named ``registry``.)

A route not there yet is measured through the services it calls (``…_via: service``); a route
that answers an error prints ``n/a`` with the status.

    .venv/bin/python benchmarks/people_register.py           # city (its first load ~15 min, people ~6)
    .venv/bin/python benchmarks/people_register.py --quick   # the demo city, under a minute
    .venv/bin/python benchmarks/people_register.py --prepare # only load the database and the people
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from _setup import ROOT, figure, percentile, scratch_city, setup_django

#: Bump when data.city.people changes what it writes: kept people are loaded again.
PEOPLE_VERSION = 4
KEYRING = ROOT / "var" / "keys" / "bench-registry.json"
REASON = "性能测试 benchmark"
RATIO_TARGET = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo city, under a minute")
    parser.add_argument("--lookups", type=int, default=None, help="numbers looked up (200)")
    parser.add_argument("--reps", type=int, default=None, help="timings per list request (30)")
    parser.add_argument("--export-reps", type=int, default=None, help="timings per export (3)")
    parser.add_argument(
        "--budget", type=float, default=240, help="seconds per list request, after 3 rounds"
    )
    parser.add_argument(
        "--parts", default="lookups,exports,lists", help="what to time (comma-separated)"
    )
    parser.add_argument("--fresh", action="store_true", help="reload the scratch database")
    parser.add_argument("--fresh-people", action="store_true", help="load the people again")
    parser.add_argument("--prepare", action="store_true", help="only load the city and people")
    parser.add_argument(
        "--hold-back", action="append", default=[], help="a migration not to apply (app/name)"
    )
    args = parser.parse_args()
    size = "demo" if args.quick else "city"
    lookups = args.lookups or (40 if args.quick else 200)
    reps = args.reps or (5 if args.quick else 30)
    export_reps = args.export_reps or (1 if args.quick else 3)
    setup_django()

    from django.conf import settings
    from django.db import connection

    from registry import crypto

    settings.PLATEGRID_KEYRING = str(KEYRING)
    crypto.ensure_keyring(KEYRING)
    figure("size", size)
    connection.close()
    connection.settings_dict["NAME"] = f"plategrid_bench_registry_{size}"
    started = time.perf_counter()
    loaded = scratch_city(
        connection,
        benchmark="registry",
        size=size,
        fresh=args.fresh,
        hold_back=tuple(args.hold_back),
    )
    figure("city_load_s", f"{loaded:.0f}" if loaded is not None else "kept")
    prepare_people(fresh=args.fresh_people)
    figure("prepare_s", f"{time.perf_counter() - started:.0f}")
    if args.prepare:
        return
    place = find_place()
    for name, value in place.figures.items():
        figure(f"place_{name}", value)
    users = bench_users(place)
    parts = set(args.parts.split(","))
    if "lookups" in parts:
        time_lookups(users["district"], place, lookups)
    if "exports" in parts:
        time_exports(users, place, export_reps)
    if "lists" in parts:
        time_lists(users["worker"], place, reps, args.budget)


# ---------------------------------------------------------------------------------------------
# The people


def prepare_people(*, fresh: bool) -> None:
    """The people of the database: kept when written by this generator version with this
    keyring and these schedules and criteria, else written again; figures printed either way."""
    from django.db import connection

    from data.city import people
    from registry import crypto

    schedules, criteria = len(people.read_schedules()), len(people.read_criteria())
    signature = (
        f"v{PEOPLE_VERSION} seed {people.SEED} key {crypto.keyring().current} "
        f"schedules {schedules} criteria {criteria}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_registry_people (signature text, figures text, "
            "made_at timestamptz DEFAULT now())"
        )
        cursor.execute("SELECT signature, figures FROM bench_registry_people")
        row = cursor.fetchone()
    if row is not None and row[0] == signature and not fresh:
        figures = {**json.loads(row[1]), "people": "kept"}
    else:
        clear_people()
        figures = {
            **people.load_people(progress=lambda text: print(text, file=sys.stderr, flush=True)),
            "people": "made",
        }
        with connection.cursor() as cursor:
            for model in people.TRACKED:
                cursor.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')
            cursor.execute("DELETE FROM bench_registry_people")
            cursor.execute(
                "INSERT INTO bench_registry_people (signature, figures) VALUES (%s, %s)",
                [signature, json.dumps(figures)],
            )
    figures["schedules"], figures["criteria"] = schedules, criteria
    for name, value in figures.items():
        figure(f"people_{name}", value)
    with connection.cursor() as cursor:
        cursor.execute("SELECT category, count(*) FROM registry_resident GROUP BY 1 ORDER BY 1")
        rows = cursor.fetchall()
        total = sum(n for _, n in rows)
        for category, n in rows:
            figure(f"residents_{category}", f"{n} ({100 * n / max(total, 1):.1f} %)")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('registry_resident'))")
        figure("resident_table_size", cursor.fetchone()[0])


def clear_people() -> None:
    """Empty the personal tables and their history (not the access log)."""
    from django.db import connection

    from data.city import people
    from registry.privacy import HISTORY_TABLES

    tables = [m._meta.db_table for m in people.TRACKED] + list(HISTORY_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )


@dataclass
class Place:
    community: str
    district: str
    figures: dict[str, Any]


def find_place() -> Place:
    """The community with the most floating residents living there today."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT r.community_code, count(*) FROM registry_resident r
                WHERE r.category = 'floating' AND EXISTS (
                      SELECT 1 FROM registry_occupancy o
                       WHERE o.resident_id = r.id AND o.moved_out IS NULL)
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""
        )
        code, floating = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM registry_resident WHERE community_code = %s", [code])
        residents = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM registry_resident WHERE category = 'floating'"
            " AND community_code >= %s AND community_code < %s",
            [code[:9], code[:9] + "a"],
        )
        office_floating = cursor.fetchone()[0]
    return Place(
        code,
        code[:6],
        {
            "community": code,
            "floating": floating,
            "residents": residents,
            "office_floating_on_file": office_floating,
        },
    )


def bench_users(place: Place) -> dict[str, Any]:
    """A district administrator of the place's district and a community worker of the place,
    both with the reveal permission; made once."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from gis.models import Role, ScopeGrant

    reveal = Permission.objects.get(codename="reveal_resident", content_type__app_label="registry")
    users = {}
    for key, role, code in (
        ("district", Role.DISTRICT_ADMIN, place.district),
        ("worker", Role.COMMUNITY_WORKER, place.community),
    ):
        user, _ = get_user_model().objects.update_or_create(
            username=f"bench-registry-{key}", defaults={"is_active": True}
        )
        ScopeGrant.objects.filter(user=user).exclude(territory_code=code).delete()
        ScopeGrant.objects.update_or_create(user=user, territory_code=code, defaults={"role": role})
        user.user_permissions.add(reveal)
        users[key] = get_user_model().objects.get(pk=user.pk)  # permissions read afresh
    return users


# ---------------------------------------------------------------------------------------------
# Requests


def client_for(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def routed(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def fetch(client: Any, path: str, **query: str) -> tuple[int, bytes]:
    """GET ``path``: the status and the whole body (a streamed one read to its end)."""
    response = client.get(path, query)
    if getattr(response, "streaming", False):
        return response.status_code, b"".join(response.streaming_content)
    return response.status_code, bytes(response.content)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def print_times(name: str, values: list[float]) -> None:
    if not values:
        figure(name, "n/a")
        return
    figure(f"{name}_p50_ms", f"{percentile(values, 50):.1f}")
    figure(f"{name}_p95_ms", f"{percentile(values, 95):.1f}")


def access_log_rows() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_accesslog")
        return int(cursor.fetchone()[0])


def sample_numbers(place: Place, n: int) -> list[str]:
    """``n`` identity numbers of residents of the place's district (decrypted, untimed), one in
    ten replaced by a valid number nobody has."""
    from django.db import connection

    from registry import crypto, idnumber
    from registry.services import ID_CONTEXT

    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2009)")
        cursor.execute(
            "SELECT id_number FROM registry_resident TABLESAMPLE SYSTEM (5)"
            " WHERE community_code LIKE %s AND id_number <> '' ORDER BY random() LIMIT %s",
            [place.district + "%", n],
        )
        numbers = [crypto.decrypt(row[0], context=ID_CONTEXT) for row in cursor.fetchall()]
    rng = np.random.default_rng(20091)
    for k in range(0, len(numbers), 10):
        birth = idnumber.parse(numbers[k]).birth_date
        numbers[k] = idnumber.make("469027", birth, int(rng.integers(0, 500)), male=True)
    return numbers


def time_lookups(user: Any, place: Place, n: int) -> None:
    """(a) Lookup by identity number, through the route or the service."""
    from registry.services import find_by_id_number

    path = "/api/registry/residents/search-id/"
    numbers = sample_numbers(place, n)
    figure("lookup_numbers", len(numbers))
    via_api = routed(path)
    figure("lookup_via", "api" if via_api else "service (no route yet)")
    client = client_for(user)

    def look_up(number: str) -> tuple[int, bytes]:
        if via_api:
            body = {"id_number": number, "reason": REASON}
            response = client.post(path, body, content_type="application/json")
            return response.status_code, bytes(response.content)
        resident = find_by_id_number(user, number, reason=REASON, path=path)
        return (200 if resident is not None else 404), b""

    found, times, before = 0, [], access_log_rows()
    for number in numbers:
        started = time.perf_counter()
        status, body = look_up(number)
        times.append((time.perf_counter() - started) * 1000)
        if status not in (200, 404):
            figure("lookup", f"n/a (status {status}: {body[:200]!r})")
            return
        found += status == 200
    print_times("lookup", times)
    figure("lookup_found", f"{found}/{len(numbers)}")
    figure("lookup_logged", access_log_rows() - before)


def time_exports(users: dict[str, Any], place: Place, reps: int) -> None:
    """(b) The floating-population register as XLSX and PDF, of the place (its worker) and of
    its street office (``register_office_…``, the district administrator): the first call (fonts
    and modules loaded) apart, then ``reps`` calls."""
    targets = (("register", users["worker"], place.community), ("register_office",
               users["district"], place.community[:9]))  # fmt: skip
    for prefix, user, code in targets:
        client = client_for(user)
        for kind in ("xlsx", "pdf"):
            path = f"/api/registry/registers/floating.{kind}"
            name = f"{prefix}_{kind}"
            if not routed(path):
                figure(name, "n/a (no route yet)")
                continue
            times, size = [], 0
            for _ in range(reps + 1):
                started = time.perf_counter()
                status, body = fetch(client, path, code=code, reason=REASON)
                if status != 200:
                    figure(name, f"n/a (status {status}: {body[:200]!r})")
                    break
                times.append((time.perf_counter() - started) * 1000)
                size = len(body)
            if times:
                figure(f"{name}_first_ms", f"{times[0]:.0f}")
            if len(times) > 1:
                warm = times[1:]
                figure(f"{name}_ms", f"{min(warm):.0f} (best of {len(warm)}: {times_text(warm)})")
                figure(f"{name}_bytes", size)


def times_text(values: list[float]) -> str:
    return " ".join(f"{v:.0f}" for v in values)


# ---------------------------------------------------------------------------------------------
# (c) Encryption and access logging ON against both OFF


def plaintext_copy(place: Place) -> dict[str, str]:
    """The place's identity numbers and phones in clear, keyed by their ciphertexts."""
    from django.db import connection

    from registry import crypto
    from registry.services import ID_CONTEXT, PHONE_CONTEXT

    plain: dict[str, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM registry_resident WHERE community_code = %s",
            [place.community],
        )
        for id_token, phone_token in cursor.fetchall():
            plain[id_token] = crypto.decrypt(id_token, context=ID_CONTEXT)
            plain[phone_token] = crypto.decrypt(phone_token, context=PHONE_CONTEXT)
    return plain


@contextlib.contextmanager
def switched_off(plain: dict[str, str]) -> Iterator[None]:
    """Encryption and access logging OFF in this process (see the module's doc)."""
    from registry import crypto, privacy

    def decrypt(token: str, *, context: str) -> str:
        return plain[token] if token else ""

    def keyring() -> Any:
        raise crypto.KeyringError("the OFF path reached for the keyring")

    def log_access(*_args: Any, **_kwargs: Any) -> None:
        return None

    replacements = {
        crypto.decrypt: decrypt,
        crypto.keyring: keyring,
        privacy.log_access: log_access,
    }
    patched: list[tuple[Any, str, Any]] = []
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith(("registry", "web", "layers", "data")):
            continue
        for attribute in ("decrypt", "keyring", "log_access"):
            original = getattr(module, attribute, None)
            if original is not None and original in replacements:
                setattr(module, attribute, replacements[original])
                patched.append((module, attribute, original))
    try:
        yield
    finally:
        for module, attribute, original in patched:
            setattr(module, attribute, original)


def revealed_page(user: Any, place: Place) -> int:
    """A page of 100 residents of the place with their clear numbers and phones, as a revealed
    list would make it: the scoped read, ``reveal_fields`` per row, one access-log row."""
    from registry import privacy
    from registry.models import Resident
    from registry.privacy import personal
    from registry.services import reveal_fields

    with personal(user):
        page = list(
            Resident.objects.visible_to(user)
            .filter(community_code=place.community)
            .order_by("name", "id")[:100]
        )
    rows = [
        {"id": r.pk, "name": r.name, **reveal_fields(r), "masked": r.id_number_masked} for r in page
    ]
    privacy.log_access(  # read from the module at each call: patched when OFF
        user,
        "reveal",
        f"residents of {place.community}",
        reason=REASON,
        community_code=place.community,
        rows=len(rows),
        path="bench",
    )
    return len(rows)


def time_lists(user: Any, place: Place, reps: int, budget_s: float) -> None:
    client = client_for(user)
    plain = plaintext_copy(place)
    figure("plaintext_copy_values", len(plain))
    requests: list[tuple[str, Callable[[], Any]]] = []

    def get(path: str, **query: str) -> Callable[[], Any]:
        def call() -> Any:
            status, body = fetch(client, path, **query)
            if status != 200:
                raise RuntimeError(f"status {status}: {body[:200]!r}")
            return body

        return call

    lists = "/api/registry/residents/"
    if routed(lists):
        requests.append(("list_masked", get(lists, community=place.community)))
        requests.append(
            ("list_masked_floating", get(lists, community=place.community, category="floating"))
        )
    else:
        figure("list_masked", "n/a (no route yet)")
    register = "/api/registry/registers/floating.xlsx"
    if routed(register):
        requests.append(
            (
                "register_revealed_xlsx",
                get(register, code=place.community, reason=REASON, reveal="1"),
            )
        )
    else:
        figure("register_revealed_xlsx", "n/a (no route yet)")
    requests.append(("page_revealed_service", lambda: revealed_page(user, place)))

    times: dict[str, dict[str, list[float]]] = {}
    failed: dict[str, str] = {}
    logged: dict[str, dict[str, int]] = {}
    for name, call in requests:
        try:  # a warm-up of each, both ways
            call()
            with switched_off(plain):
                call()
        except (RuntimeError, KeyError) as error:
            failed[name] = f"n/a ({str(error)[:200]})"
            continue
        times[name] = {"on": [], "off": []}
        logged[name] = {"on": 0, "off": 0}
    export_reps = max(3, reps // 5)
    budget_ms = budget_s * 1000
    for round_no in range(reps):
        for name, call in requests:
            if name not in times:
                continue
            if name.startswith("register") and round_no >= export_reps:
                continue
            spent = sum(times[name]["on"]) + sum(times[name]["off"])
            if round_no >= 3 and spent > budget_ms:  # a slow request: fewer rounds
                continue
            for mode in ("on", "off") if round_no % 2 == 0 else ("off", "on"):
                before = access_log_rows()
                with switched_off(plain) if mode == "off" else contextlib.nullcontext():
                    ms, _ = timed(call)
                times[name][mode].append(ms)
                logged[name][mode] += access_log_rows() - before
    for name, message in failed.items():
        figure(name, message)
    for name, modes in times.items():
        print_times(f"{name}_on", modes["on"])
        print_times(f"{name}_off", modes["off"])
        on50, off50 = percentile(modes["on"], 50), percentile(modes["off"], 50)
        on95, off95 = percentile(modes["on"], 95), percentile(modes["off"], 95)
        figure(f"{name}_ratio", f"{on50 / off50:.2f}")
        figure(f"{name}_ratio_p95", f"{on95 / off95:.2f}")
        figure(f"{name}_logged_on_off", f"{logged[name]['on']}/{logged[name]['off']}")
    figure("ratio_target", RATIO_TARGET)


if __name__ == "__main__":
    main()
