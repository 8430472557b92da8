"""The demo's people register (data/city/people.py, ``manage.py demo_people``) on the demo city:
valid and unique identity numbers that decrypt, occupancies that never overlap, one head per
household, plausible category shares, dates and communities that agree, idempotent loading."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.db.models import Count

from data.city.generate import generate
from data.city.load import load_city
from data.city.people import HUBEI, LOCAL, REGIONS, TRACKED
from gis.models import Room
from registry import crypto, idnumber, services
from registry import ratings as ratings_rules
from registry.models import (
    ACTOR_FOREIGN_KEYS,
    FollowUp,
    FollowUpSchedule,
    Household,
    LandlordContract,
    Occupancy,
    Rectification,
    Resident,
    StarCriterion,
    StarRating,
    SupplyDistribution,
    TenancyContract,
)
from registry.privacy import personal
from registry.services import ID_CONTEXT, PHONE_CONTEXT

TODAY = dt.date(2026, 12, 3)
RENTED = ("rented_whole", "rented_shared")

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(module_transaction: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The demo city with its people, loaded once for the module (rolled back at its end)."""
    with django_db_blocker.unblock():
        load_city(generate("demo"))
        # The seeds' schedules and criteria (registry/0003) when the migration has none yet.
        for code, months, category in (
            ("floating-quarterly", [1, 4, 7, 10], "floating"),
            ("employer-yearly", [1], "employer"),
            ("outflowing-halfyear", [1, 7], "outflowing"),
            ("community-yearly", [3], "community"),
        ):
            if not FollowUpSchedule.objects.filter(category=category).exists():
                FollowUpSchedule.objects.create(
                    code=code, name=code, months=months, category=category
                )
        if not StarCriterion.objects.filter(active=True).exists():
            for position, (code, stars) in enumerate(
                (("licence", 2), ("registered", 3), ("fire", 3), ("contract", 2), ("clean", 2))
            ):
                StarCriterion.objects.create(code=code, name=code, stars=stars, position=position)
        call_command("demo_people", "--today", TODAY.isoformat(), verbosity=0)
        with personal(system=True):
            yield {
                "residents": list(Resident.objects.all()),
                "occupancies": list(Occupancy.objects.all()),
                "households": list(Household.objects.all()),
            }


def test_identity_numbers_are_valid_unique_and_encrypted(demo: dict[str, Any]) -> None:
    residents = demo["residents"]
    assert 8_000 < len(residents) < 30_000
    numbers = set()
    regions = {}
    for r in residents:
        number = crypto.decrypt(r.id_number, context=ID_CONTEXT)
        parsed = idnumber.parse(number, today=TODAY)
        assert parsed.region in REGIONS
        assert (parsed.birth_date, "m" if parsed.male else "f") == (r.birth_date, r.sex)
        assert r.id_number_masked == idnumber.mask(number)
        assert r.id_number_hash == crypto.search_hash(number, kind="id")
        assert number not in r.id_number  # a ciphertext, not the number
        numbers.add(number)
        regions[r.pk] = parsed.region
        phone = crypto.decrypt(r.phone, context=PHONE_CONTEXT)
        assert (phone == "") == (r.phone_masked == "")
        assert not phone or (len(phone) == 11 and r.phone_masked == phone[:3] + "****" + phone[-4:])
        if not phone:
            assert (TODAY - r.birth_date).days < 16 * 366
    assert len(numbers) == len(residents)
    # Floating residents come from elsewhere (in Hubei or beyond), community residents are
    # registered in the district they live in.
    floating = [r for r in residents if r.category == "floating"]
    assert all(regions[r.pk] not in LOCAL for r in floating)
    assert all(regions[r.pk] == r.community_code[:6] for r in residents
               if r.category == "community")  # fmt: skip
    assert all(r.home_registration == REGIONS[regions[r.pk]] for r in residents)
    from_hubei = sum(regions[r.pk] in HUBEI for r in floating)
    assert 0.4 < from_hubei / len(floating) < 0.8


def test_the_categories_come_in_plausible_shares(demo: dict[str, Any]) -> None:
    shares = Counter(r.category for r in demo["residents"])
    total = sum(shares.values())
    # The seeds: 99,421 floating residents among ~1.12 million (8.9 %).
    assert 0.70 < shares["community"] / total < 0.88
    assert 0.05 < shares["floating"] / total < 0.15
    assert 0.03 < shares["employer"] / total < 0.12
    assert 0.02 < shares["outflowing"] / total < 0.08
    assert all(r.arrival_date for r in demo["residents"] if r.category == "floating")


def test_occupancies_never_overlap_and_agree_with_people_and_rooms(
    demo: dict[str, Any],
) -> None:
    residents = {r.pk: r for r in demo["residents"]}
    by_resident: dict[int, list[Occupancy]] = defaultdict(list)
    for o in demo["occupancies"]:
        by_resident[o.resident_id].append(o)
    assert set(by_resident) == set(residents)  # everyone lives or lived somewhere
    rooms = {
        pk: (use, code)
        for pk, use, code in Room.objects.values_list("pk", "use", "building__community__code")
    }
    households = {h.pk: h for h in demo["households"]}
    moved = 0
    for pk, periods in by_resident.items():
        periods.sort(key=lambda o: o.moved_in)
        for earlier, later in itertools.pairwise(periods):
            assert earlier.moved_out is not None and earlier.moved_out <= later.moved_in
        moved += len(periods) > 1
        resident = residents[pk]
        for o in periods:
            assert o.moved_in >= resident.birth_date
            assert o.moved_out is None or o.moved_out > o.moved_in
            assert o.room_id == households[o.household_id].room_id
            assert o.community_code == rooms[o.room_id][1]
        assert resident.community_code == periods[-1].community_code
        if resident.category == "outflowing":
            assert periods[-1].moved_out is not None  # gone elsewhere, the file kept
    assert moved > 10  # some moved between rooms
    assert sum(1 for r in residents.values() if r.category == "floating"
               and by_resident[r.pk][-1].moved_out) > 30  # fmt: skip  # some left the city


def test_one_head_per_household_and_dissolved_when_empty(demo: dict[str, Any]) -> None:
    heads = Counter(o.household_id for o in demo["occupancies"] if o.relation == "head")
    current = defaultdict(list)
    for o in demo["occupancies"]:
        if o.moved_out is None:
            current[o.household_id].append(o)
    for household in demo["households"]:
        assert heads[household.pk] == 1, household.pk
        living = current.get(household.pk, [])
        assert (household.dissolved_on is None) == bool(living)
        if living:
            assert sum(o.relation == "head" for o in living) == 1


def test_contracts_ratings_follow_ups_and_supplies(demo: dict[str, Any]) -> None:
    with personal(system=True):
        landlords = LandlordContract.objects.values("landlord_id").distinct().count()
        let_landlords = Room.objects.filter(use__in=RENTED).values("landlord_id").distinct().count()
        assert 0.75 < landlords / let_landlords < 0.95
        assert LandlordContract.objects.valid_on(TODAY).count() > landlords * 0.8
        tenancies = list(TenancyContract.objects.select_related("room", "tenant"))
        assert tenancies and all(t.room.use in RENTED for t in tenancies)
        assert all(t.tenant.community_code == t.community_code for t in tenancies)
        ratings = list(StarRating.objects.all())
        assert ratings
        assert all(r.stars == min(12, sum(r.scores.values())) for r in ratings)
        assert {r.month.day for r in ratings} == {1} and max(r.month for r in ratings) < TODAY
        assert all(r.reward == ratings_rules.reward_for(r.stars) for r in ratings)
        assert any(r.reward for r in ratings)
        orders = list(Rectification.objects.all())
        assert orders and all(o.rating_id and o.deadline > o.ordered_on for o in orders)
        for order in orders:  # the criteria missed, as registry.ratings lists them
            for line in order.issues.splitlines():
                got, full = line.rsplit(" ", 1)[1].split("/")
                assert int(got) < int(full)
        assert all(r.rectifications.exists() for r in ratings if r.stars < ratings_rules.rules()["rectify_below"] and
                   r.month < dt.date(2026, 10, 1))  # fmt: skip
        schedule = dict(FollowUpSchedule.objects.values_list("pk", "months"))
        follow_ups = FollowUp.objects.select_related("resident")
        assert follow_ups.count() > len(demo["residents"]) * 0.5
        for f in follow_ups[:3000]:
            months = schedule[f.resident.schedule_id or 0]
            late = (f.done_on.replace(day=1) - dt.timedelta(days=1)).month
            assert f.done_on.month in months or late in months
            assert f.done_on <= TODAY and f.community_code == f.resident.community_code
        assert SupplyDistribution.objects.exists()
        per_household = Occupancy.objects.values("household").annotate(n=Count("id"))
        assert max(row["n"] for row in per_household) <= 7


def test_loading_again_is_refused_or_skipped(demo: dict[str, Any]) -> None:
    with personal(system=True):
        count = Resident.objects.count()
    call_command("demo_people", "--if-empty", verbosity=0)
    with pytest.raises(CommandError):
        call_command("demo_people", verbosity=0)
    with personal(system=True):
        assert Resident.objects.count() == count


def test_the_load_writes_no_history_and_leaves_triggers_and_keys_on(demo: dict[str, Any]) -> None:
    events = apps.get_model("registry", "ResidentEvent")
    with personal(system=True):
        assert not events.objects.exists()  # generated people: no change of anyone's to record
        resident = Resident.objects.order_by("pk").first()
        assert resident is not None
        services.update_resident(None, resident, {"employer": "襄阳测试公司"})
        assert events.objects.filter(pgh_obj_id=resident.pk).count() == 1  # the trigger is on
    with connection.cursor() as cursor:
        for model in TRACKED:
            cursor.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass",
                [model._meta.db_table],
            )
            keys = [
                f
                for f in model._meta.concrete_fields
                if isinstance(f, models.ForeignKey) and getattr(f, "db_constraint", True)
            ]
            # Who acted: a key of the database's own (ON DELETE SET NULL), not Django's.
            actors = [t for t, _column in ACTOR_FOREIGN_KEYS if t == model._meta.db_table]
            assert cursor.fetchone()[0] == len(keys) + len(actors), model  # every key is back
