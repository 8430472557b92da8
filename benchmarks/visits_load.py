"""Visits under load: field clients post visits to a real gunicorn, which is killed mid-run.

200 clients (20 with --quick) sign in as community workers, each with its own Staff row, and for
60 s (15 s with --quick) post visits to ``POST /api/visits/`` back to back, each with a fresh
client-made UUID, for target rooms of a sweep: mostly one visit a request, some the way a phone
sends them when things go wrong or it comes back online —
  - ``retry``: the same visit (same id) posted twice;
  - ``double_tap``: a second visit under another id with the same room, outcome and time
    (the server answers ``duplicate`` with ``duplicate_of`` the first);
  - ``conflict``: a second visit under another id, same room and time, another outcome (both
    kept, marked conflict);
  - ``batch``: ``{"visits": [...]}`` of 3–8 visits (offline sync).
A network error, a 5xx or a time-out is retried with the same ids until the server answers
(created, duplicate or conflict), as the phone's queue does. At 40 % of the run the gunicorn
master and its workers (the whole process group) are SIGKILLed and a new server is started on the
same port; ``restart_s`` is the time from the kill until it answers again.

Then the database is checked against what the clients were told:
  - ``lost``: an acknowledged visit that is not in grid_visit (nor, for a duplicate, the visit it
    duplicates), or stored (or duplicating one) with another room or outcome than sent;
  - ``duplicated``: rows of this run's staff whose id no client made, plus rows beyond one per
    staff, room, outcome and clock minute (the server takes such visits less than 60 s apart
    as one) — what retries and double taps must never add;
  - ``unacknowledged``: visits still being retried when the clients stopped (reported apart);
  - ``rejected``: visits the server refused (an item error or a 4xx): a bug of this script or
    the endpoint.
Prints visits/s, request latency p50/p95/max (of answered requests; ``before_kill_…`` of those
sent before the kill, without the restart's cold workers) and the time from first send to
acknowledgement (``ack_p95_ms``, ``ack_max_ms``: the outage shows there). Exits 1 when
lost, duplicated, unacknowledged or rejected is not 0.

The server: ``gunicorn web.wsgi`` (gthread workers, preloaded) on 127.0.0.1 and a free port,
with the test settings (DEBUG off, jobs run in the request; DJANGO_SETTINGS_MODULE, when set,
names others), on a scratch database of its own: ``plategrid_bench_visits`` on the configured
server, created, migrated and loaded with the demo city on first use and reused afterwards
(visits of earlier runs stay) until a migration changes. Its log: var/log/bench-visits-gunicorn.log.
Usage: .venv/bin/python benchmarks/visits_load.py [--quick] [--clients N] [--duration S]
       [--kill-at FRACTION] [--workers W] [--threads T] [--fresh] [--dump FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from _setup import ROOT, figure, percentile, scratch_city, setup_django

DATABASE = "plategrid_bench_visits"
PASSWORD = "bench-visits-password"  # noqa: S105 (accounts of the scratch database only)
USERNAME = "bench-visits-{:03d}"
SWEEP_NAME = "benchmark: visits under load"
LOG = ROOT / "var" / "log" / "bench-visits-gunicorn.log"
#: Outcomes posted (new_room needs a building and a number: not exercised here).
OUTCOMES = ("registered", "changed", "moved_out", "vacant", "not_at_home", "refused", "room_gone")
OUTCOME_WEIGHTS = (50, 10, 5, 8, 20, 5, 2)
#: Share of each kind of step a client takes (the rest: one visit a request).
KINDS = {"retry": 0.08, "double_tap": 0.08, "conflict": 0.04, "batch": 0.10}
ACKNOWLEDGED = ("created", "duplicate", "conflict")
REQUEST_TIMEOUT_S = 60.0
#: After the run's end a client still retrying its last visits keeps at it this long.
GRACE_S = 30.0


@dataclass
class Sent:
    """One visit a client made, and what the server said about it."""

    id: str
    room: int
    outcome: str
    visited_at: str
    kind: str
    first_sent: float = 0.0
    status: str | None = None
    duplicate_of: str | None = None
    acknowledged_after_s: float | None = None
    error: str = ""

    def body(self, sweep: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room,
            "outcome": self.outcome,
            "visited_at": self.visited_at,
            "sweep": sweep,
        }


@dataclass
class Tally:
    """What the clients did, appended from their threads (list.append holds the GIL)."""

    visits: list[Sent] = field(default_factory=list)
    #: (sent at, ms) of each answered request
    latencies: list[tuple[float, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        """Count ``name``: requests, network_errors, timeouts, server_errors (all three
        retried), relogins, sign_in_failures."""
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 clients for 15 s")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (200)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of posting (60)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of the run (0.4)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--fresh", action="store_true", help="reload the scratch database")
    parser.add_argument("--dump", type=Path, help="write each visit and its answer (JSON lines)")
    args = parser.parse_args()
    clients = args.clients or (20 if args.quick else 200)
    duration = args.duration or (15.0 if args.quick else 60.0)
    setup_django()

    from django.db import connection

    # The scratch database, named before the first connection: never the configured one.
    connection.settings_dict["NAME"] = DATABASE
    prepare_database(connection, fresh=args.fresh)
    sweep_id, rooms, staff_ids = prepare_accounts(clients)
    connection.close()  # the server's processes must not share it; reopened for the check

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    LOG.parent.mkdir(parents=True, exist_ok=True)
    server_args = (port, env, args.workers, args.threads)
    with LOG.open("w") as log:
        server = start_server(*server_args, log)
        try:
            wait_until_answering(base_url, server)
            tally = Tally()
            go = threading.Event()
            signed_in = threading.Barrier(clients + 1)
            deadline = [0.0]
            rng = random.Random(20091)
            threads = [
                threading.Thread(
                    target=client,
                    args=(
                        n,
                        base_url,
                        sweep_id,
                        rooms,
                        tally,
                        signed_in,
                        go,
                        deadline,
                        rng.random(),
                    ),
                    daemon=True,
                )
                for n in range(clients)
            ]
            for thread in threads:
                thread.start()
            signed_in.wait(timeout=120)  # signing in is not part of the run
            started = time.monotonic()
            deadline[0] = started + duration
            go.set()
            time.sleep(max(0.0, started + duration * args.kill_at - time.monotonic()))
            killed_at = time.monotonic()
            kill_server(server)
            server = start_server(*server_args, log)
            listening_at = wait_until_answering(base_url, server)
            restart_s = time.monotonic() - killed_at
            for thread in threads:
                thread.join(timeout=max(0.0, deadline[0] + GRACE_S + 5 - time.monotonic()))
            elapsed = time.monotonic() - started
        finally:
            stop_server(server)

    check = check_database(tally.visits, staff_ids)
    if args.dump:
        with args.dump.open("w") as dump:
            for visit in tally.visits:
                dump.write(json.dumps(asdict(visit)) + "\n")
    sent = tally.visits
    acknowledged = [v for v in sent if v.status in ACKNOWLEDGED]
    ack_ms = [v.acknowledged_after_s * 1000 for v in acknowledged if v.acknowledged_after_s]
    latencies = [ms for _, ms in tally.latencies] or [0.0, 0.0]
    before_kill = [ms for at, ms in tally.latencies if at < killed_at] or [0.0, 0.0]
    figure("clients", clients)
    figure("duration_s", f"{duration:g}")
    figure("elapsed_s", f"{elapsed:.1f}")
    figure("gunicorn", f"{args.workers} workers x {args.threads} threads")
    # Failed requests (all retried): refused or cut connections (the outage), time-outs, 5xx.
    for name in ("requests", "network_errors", "timeouts", "server_errors", "relogins"):
        figure(name, tally.counts.get(name, 0))
    figure("visits_sent", len(sent))
    # Visits made in steps of each kind (a retry's second post is the same visit, not counted).
    for kind in ("single", *KINDS):
        figure(f"visits_{kind}", sum(v.kind == kind for v in sent))
    figure("visits_acknowledged", len(acknowledged))
    for status in ACKNOWLEDGED:
        figure(f"answered_{status}", sum(v.status == status for v in sent))
    # A visit stored whose answer was lost (the kill): its retry answered "duplicate" of itself.
    figure("answered_duplicate_of_itself", sum(v.duplicate_of == v.id for v in sent))
    figure("visits_stored", check["stored"])
    figure("visits_per_s", f"{len(acknowledged) / elapsed:.1f}")
    figure("requests_per_s", f"{tally.counts.get('requests', 0) / elapsed:.1f}")
    figure("p50_ms", f"{percentile(latencies, 50):.1f}")
    figure("p95_ms", f"{percentile(latencies, 95):.1f}")
    figure("max_ms", f"{max(latencies):.1f}")
    figure("before_kill_p50_ms", f"{percentile(before_kill, 50):.1f}")
    figure("before_kill_p95_ms", f"{percentile(before_kill, 95):.1f}")
    figure("ack_p95_ms", f"{percentile(ack_ms or [0.0, 0.0], 95):.1f}")
    figure("ack_max_ms", f"{max(ack_ms or [0.0]):.1f}")
    figure("server_kills", 1)
    figure("restart_listening_s", f"{listening_at - killed_at:.2f}")
    figure("restart_s", f"{restart_s:.2f}")
    figure("conflicts_kept", check["conflicts"])
    figure("sign_in_failures", tally.counts.get("sign_in_failures", 0))
    figure("unacknowledged", sum(v.status is None for v in sent))
    rejected = [v for v in sent if v.error]
    figure("rejected", len(rejected))
    figure("lost", check["lost"])
    figure("duplicated", check["duplicated"])
    for visit in rejected[:5]:
        print(f"  rejected {visit.kind} {visit.id}: {visit.error}", file=sys.stderr)
    if (
        check["lost"]
        or check["duplicated"]
        or rejected
        or any(v.status is None for v in sent)
        or tally.counts.get("sign_in_failures")
    ):
        sys.exit(1)


# --- The clients ---------------------------------------------------------------------------


def client(
    n: int,
    base_url: str,
    sweep: int,
    rooms: list[int],
    tally: Tally,
    signed_in: threading.Barrier,
    go: threading.Event,
    deadline: list[float],
    seed: float,
) -> None:
    """One field worker's phone: sign in, then post visits until the deadline; every visit is
    retried (same id) until the server acknowledges it or the grace time is over."""
    rng = random.Random(seed)
    session = requests.Session()
    username = USERNAME.format(n)
    try:
        ok = sign_in(session, base_url, username)
    finally:
        signed_in.wait()
    if not ok:
        tally.add("sign_in_failures")
        return
    go.wait()

    def post(visits: list[Sent], *, batch: bool = False) -> None:
        """Post until each of ``visits`` is acknowledged (or refused, or time is up)."""
        now = time.monotonic()
        for visit in visits:
            visit.first_sent = visit.first_sent or now
        attempt = 0
        relogged = False
        while True:
            pending = [v for v in visits if v.status is None and not v.error]
            if not pending or time.monotonic() > deadline[0] + GRACE_S:
                return
            if attempt:
                time.sleep(min(1.0, 0.05 * 2**attempt) * (0.5 + rng.random()))
            attempt += 1
            payload: Any = (
                {"visits": [v.body(sweep) for v in pending]} if batch else pending[0].body(sweep)
            )
            tally.add("requests")
            started = time.monotonic()
            try:
                response = session.post(
                    f"{base_url}/api/visits/",
                    json=payload,
                    headers={"X-CSRFToken": session.cookies.get("csrftoken") or ""},
                    timeout=REQUEST_TIMEOUT_S,
                )
            except requests.Timeout:
                tally.add("timeouts")
                continue
            except requests.RequestException:
                tally.add("network_errors")
                continue
            answered = time.monotonic()
            if response.status_code >= 500:
                tally.add("server_errors")
                continue
            if response.status_code in (401, 403) and not relogged:
                # Signed out (a session lost with the server): sign in again and retry, once.
                tally.add("relogins")
                relogged = sign_in(session, base_url, username)
                continue
            if response.status_code not in (200, 201):
                for visit in pending:
                    visit.error = f"HTTP {response.status_code}: {response.text[:300]}"
                return
            tally.latencies.append((started, (answered - started) * 1000))
            results = {r.get("id"): r for r in response.json().get("results", [])}
            for visit in pending:
                result = results.get(visit.id)
                if result is None:
                    visit.error = f"no result in {response.text[:300]}"
                elif result.get("status") in ACKNOWLEDGED:
                    visit.status = result["status"]
                    visit.duplicate_of = result.get("duplicate_of")
                    visit.acknowledged_after_s = answered - visit.first_sent
                else:
                    visit.error = f"{result.get('status')}: {result.get('error')}"

    def make(kind: str, **like: Any) -> Sent:
        visit = Sent(
            id=str(uuid.uuid4()),
            room=like.get("room") or rng.choice(rooms),
            outcome=like.get("outcome") or rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0],
            visited_at=like.get("visited_at") or dt.datetime.now(dt.UTC).isoformat(),
            kind=kind,
        )
        tally.visits.append(visit)
        return visit

    while time.monotonic() < deadline[0]:
        draw = rng.random()
        kind = "single"
        for name, share in KINDS.items():
            if draw < share:
                kind = name
                break
            draw -= share
        if kind == "batch":
            post([make(kind) for _ in range(rng.randint(3, 8))], batch=True)
            continue
        first = make(kind)
        post([first], batch=False)
        if kind == "retry":  # the answer got lost: the phone sends it again
            again = Sent(**{**first.__dict__, "status": None, "first_sent": 0.0})
            post([again], batch=False)
            first.error = first.error or again.error
            if again.status not in (None, "duplicate"):
                first.error = f"a retry answered {again.status}, not duplicate"
        elif kind == "double_tap":
            post([make(kind, room=first.room, outcome=first.outcome, visited_at=first.visited_at)])
        elif kind == "conflict":
            other = rng.choice([o for o in OUTCOMES if o != first.outcome])
            post([make(kind, room=first.room, outcome=other, visited_at=first.visited_at)])


def sign_in(session: requests.Session, base_url: str, username: str) -> bool:
    """The login form, as a browser fills it in (retried while the server is away)."""
    for attempt in range(200):
        try:
            session.get(f"{base_url}/accounts/login/", timeout=REQUEST_TIMEOUT_S)
            response = session.post(
                f"{base_url}/accounts/login/",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken") or "",
                },
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT_S,
            )
            if response.status_code == 302:
                return True
            print(f"{username} cannot sign in: HTTP {response.status_code}", file=sys.stderr)
            return False
        except requests.RequestException:
            time.sleep(min(1.0, 0.05 * (attempt + 1)))
    print(f"{username} cannot sign in: the server does not answer", file=sys.stderr)
    return False


# --- The server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url(settings_dict: dict[str, Any]) -> str:
    """The scratch database as DATABASE_URL (the socket folder as a percent-encoded host)."""
    host = quote(str(settings_dict.get("HOST") or ""), safe="")
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = settings_dict.get("PASSWORD")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    return f"postgis://{auth}@{host}:{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}"


def start_server(
    port: int, env: dict[str, str], workers: int, threads: int, log: Any
) -> subprocess.Popen[bytes]:
    """gunicorn in a process group of its own (so that one signal reaches master and workers)."""
    log.write(f"--- starting gunicorn at {dt.datetime.now().isoformat()}\n")
    log.flush()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "web.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        "--preload",
        "--timeout=60",
        "--graceful-timeout=5",
        "--backlog=1024",
        "--no-control-socket",  # gunicorn 27 opens one under ~/.gunicorn, shared by every server
    ]
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_answering(base_url: str, server: subprocess.Popen[bytes]) -> float:
    """Until the login page answers 200, and the time (monotonic) the port first accepted a
    connection; the server's log when it exits or takes over 60 s.

    Refused connections are retried at once; an accepted one is given time to be answered
    (the clients' retries may queue before it)."""
    give_up = time.monotonic() + 60
    listening = 0.0
    host, port = base_url.removeprefix("http://").split(":")
    while time.monotonic() < give_up and server.poll() is None:
        try:
            if not listening:
                socket.create_connection((host, int(port)), timeout=0.5).close()
                listening = time.monotonic()
            response = requests.get(f"{base_url}/accounts/login/", timeout=(0.5, 30))
            if response.status_code == 200:
                return listening
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.02)
    stop_server(server)
    tail = LOG.read_text()[-3000:] if LOG.exists() else ""
    raise SystemExit(f"gunicorn does not answer at {base_url}; its log ends:\n{tail}")


def kill_server(server: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole process group (master and workers), as a crash or an OOM kill would."""
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    for _ in range(100):  # the workers die with the signal too; make sure before restarting
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise SystemExit(f"gunicorn's process group {server.pid} survived SIGKILL")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        try:
            os.killpg(server.pid, signal.SIGKILL)  # workers left of a master that died
        except ProcessLookupError:
            pass
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        kill_server(server)


# --- The database --------------------------------------------------------------------------


def prepare_database(connection: Any, *, fresh: bool) -> None:
    """The scratch database with the demo city (``_setup.scratch_city``)."""
    loaded = scratch_city(connection, benchmark="visits_load", size="demo", fresh=fresh)
    if loaded is not None:
        figure("load_s", f"{loaded:.0f}")


def prepare_accounts(clients: int) -> tuple[int, list[int], list[int]]:
    """The street office with the most rooms: one community worker (user, scope, Staff row) per
    client, and today's sweep of all its rooms (``grid.sweeps.create_sweep``) with one team of
    them all. Returns the sweep's id, its target rooms and the staff ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from gis.models import Community, Role, Room, ScopeGrant
    from grid.models import Staff, Sweep, SweepRoom
    from grid.sweeps import create_sweep

    office = (
        Room.objects.values("building__community__street_office__code")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("building__community__street_office__code", flat=True)[0]
    )
    communities = list(Community.objects.filter(code__startswith=office).order_by("code"))
    users = get_user_model().objects
    password = make_password(PASSWORD)
    staff_ids = []
    with transaction.atomic():
        for n in range(clients):
            user, _ = users.update_or_create(
                username=USERNAME.format(n), defaults={"password": password, "is_active": True}
            )
            ScopeGrant.objects.update_or_create(
                user=user, territory_code=office, defaults={"role": Role.COMMUNITY_WORKER}
            )
            staff, _ = Staff.objects.get_or_create(
                user=user,
                defaults={"name": f"压测员{n:03d}", "community": communities[n % len(communities)]},
            )
            staff_ids.append(staff.pk)
        today = timezone.localdate()
        name = f"{SWEEP_NAME} {today.isoformat()} ({clients})"
        sweep = Sweep.objects.filter(name=name).first()
        if sweep is None:
            admin, _ = users.update_or_create(
                username="bench-visits-admin", defaults={"is_superuser": True, "is_active": True}
            )
            sweep = create_sweep(
                admin,
                name=name,
                starts_on=today,
                ends_on=today + dt.timedelta(days=30),
                area_codes=[c.code for c in communities],
                teams=[
                    {
                        "name": "压测队",
                        "members": staff_ids,
                        "start": communities[0].geom.point_on_surface,
                    }
                ],
            )
    rooms = list(SweepRoom.objects.filter(sweep=sweep).values_list("room_id", flat=True))
    return sweep.pk, rooms, staff_ids


def check_database(sent: list[Sent], staff_ids: list[int]) -> dict[str, int]:
    """Compare grid_visit with what the clients were told (see the module's doc)."""
    from django.db import connection

    from grid.models import Visit

    connection.close()
    ids = {v.id for v in sent}
    earliest = min((v.first_sent for v in sent if v.first_sent), default=time.monotonic())
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=time.monotonic() - earliest + 5)
    run_rows = {
        str(pk): (room, outcome, conflict)
        for pk, room, outcome, conflict in Visit.objects.filter(
            staff_id__in=staff_ids, received_at__gte=since
        ).values_list("pk", "room_id", "outcome", "conflict")
    }
    # Duplicates of another id may point at rows of earlier runs (within the same minute).
    others = {v.duplicate_of for v in sent if v.duplicate_of and v.duplicate_of not in run_rows}
    known = run_rows | {
        str(pk): (room, outcome, conflict)
        for pk, room, outcome, conflict in Visit.objects.filter(pk__in=others).values_list(
            "pk", "room_id", "outcome", "conflict"
        )
    }
    # A duplicate must point at a stored visit of the same room and outcome.
    lost = 0
    for visit in sent:
        if visit.status in ("created", "conflict"):
            row = run_rows.get(visit.id)
            lost += row is None or row[:2] != (visit.room, visit.outcome)
        elif visit.status == "duplicate":
            row = known.get(visit.duplicate_of or visit.id) or known.get(visit.id)
            lost += row is None or row[:2] != (visit.room, visit.outcome)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT coalesce(sum(n - 1), 0) FROM (
                 SELECT count(*) AS n FROM grid_visit
                 WHERE staff_id = ANY(%s) AND received_at >= %s
                 GROUP BY staff_id, room_id, outcome, date_trunc('minute', visited_at)
               ) AS g""",
            [staff_ids, since],
        )
        beyond_one = int(cursor.fetchone()[0])
    return {
        "stored": sum(pk in ids for pk in run_rows),
        "lost": lost,
        "duplicated": sum(pk not in ids for pk in run_rows) + beyond_one,
        "conflicts": sum(row[2] for row in run_rows.values()),
    }


if __name__ == "__main__":
    main()
