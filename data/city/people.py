"""People for the demo city and the benchmarks: who lives in its rooms, on the register.

One generator for the demo (``manage.py demo_people``, run by ``make run``) and the city of
``benchmarks/people_register.py`` (~1 million residents); numpy, deterministic for a seed and a day:

* households in the dwelling rooms on the register (a share :data:`REGISTERED` of them, about
  one in seven): owner-occupied rooms (families of 1–5, 2.9 people on average: head, spouse,
  children, a parent), let rooms (let whole: one tenant household of 1–5; let shared: 2–4
  households of one or a couple; ~3.4 tenants a room, 76 % of the tenant households floating,
  as in the seeds), staff dormitories (collective households of employer staff); the demo has
  ~10,900 residents, the ``city`` ~1.06 million (about the seeds' 1.12 million), see
  ``docs/people.md`` for the categories' shares;
* identity numbers valid by GB 11643 (``registry.idnumber``), the region of first registration
  local for community residents, elsewhere in Hubei or in other provinces for floating ones
  (:data:`REGIONS`, with the home-registration place read from it), unique; mobile phones for
  everyone from 16;
* occupancy over time: out-flowing residents moved out of their family's room and kept as such;
  tenants who left the city (their households dissolved, the files kept); tenants who moved
  between rented rooms of their community (the old household dissolved the day they moved);
* follow-ups of the last 12 months by each resident's schedule (``FollowUpSchedule`` of their
  category; ~88 % done in the month due, a few after), landlord responsibility contracts for
  ~87 % of the landlords, tenancy contracts for ~85 % of the tenant households, star ratings of
  every rental building for the last :data:`RATING_MONTHS` months by the active criteria (the
  rewards and orders to rectify by ``registry.ratings.rules()``; a few withdrawals of the right
  to rent after orders left undone), and free supplies for some households.

Written in bulk: the rows COPYed into the personal tables inside ``personal(system=True,
role=ADMINISTRATOR)`` — PostgreSQL refuses COPY FROM into a table with row-level security for a
role subject to it, and the administrator role bypasses it (the rows are the whole city's). The
identity numbers and phones are encrypted here with the keyring's current key (the same
``key$base64`` tokens as ``registry.crypto.encrypt``, one AES-GCM object for all), hashed with
the search key and masked. The history triggers' insert events (pghistory) are switched off for
the load (``ALTER TABLE … DISABLE TRIGGER``, in the same transaction): a history event records a
person's change by a user; a generated population has no such change to record, and the events
would double what is written (the rows are the first version; updates and deletes later are
recorded as usual, the triggers being on again at the end of the transaction).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pghistory.trigger
import pgtrigger
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg import sql

from gis.masking import mask_phone
from registry import crypto
from registry.idnumber import CHECK_CHARACTERS, WEIGHTS
from registry.models import (
    FollowUp,
    FollowUpSchedule,
    Household,
    LandlordContract,
    Occupancy,
    Rectification,
    RentWithdrawal,
    Resident,
    StarCriterion,
    StarRating,
    SupplyDistribution,
    TenancyContract,
)
from registry.privacy import ADMINISTRATOR, personal
from registry.ratings import rules as star_rules
from registry.services import ID_CONTEXT, PHONE_CONTEXT

from .generate import GIVEN, SURNAMES

SEED = 20091

# Kinds of dwelling room and of household.
OWNER, WHOLE, SHARED, DORM = 0, 1, 2, 3
PAST, MOVED_FROM = 4, 5  # households that dissolved: tenants who left, a mover's former room
KIND_NAMES = ("owner", "rented_whole", "rented_shared", "dormitory", "left", "moved_from")

#: Share of the dwelling rooms whose households are on the register: the ``city`` size has
#: 2.7 million rooms, seven times the 390,000 households of the seeds' urban area (1.12 million
#: residents), so one room in seven gives it about as many residents. Owner-occupied and let
#: rooms alike, so that the categories keep the seeds' proportions.
REGISTERED = 0.14
#: Families of owners: 2.9 people on average (the seeds' 1.12 million in 390,000 households).
OWNER_SIZES = ((1, 2, 3, 4, 5), (0.12, 0.27, 0.32, 0.19, 0.10))
#: Share of the registered let rooms with tenants today (the others between tenants).
RENTED_OCCUPIED = 0.9
#: A room let whole: one household (a family, 3.2 people on average).
WHOLE_SIZES = ((1, 2, 3, 4, 5), (0.10, 0.20, 0.25, 0.30, 0.15))
#: A room let shared (合租): several households, each one person or a couple (20 %); with the
#: rooms let whole, ~3.4 tenants a let room (the seeds: 99,421 floating residents in 29,255
#: households rented to them).
SHARED_HOUSEHOLDS = ((2, 3, 4), (0.4, 0.4, 0.2))
#: Share of tenant households who are local (the seeds: 76 % of rentals to floating residents).
LOCAL_TENANTS = 0.24
#: Share of the dormitory rooms with staff on the register (employers report theirs).
DORM_OCCUPIED = 0.25
DORM_SIZES = (2, 7)  # 2–6 staff (numpy's upper bound is exclusive)
#: Let rooms of the register with a former tenant household that left the city.
FORMER_TENANTS = 0.2
#: Single tenants who came from another rented room of their community.
MOVERS = 0.15
#: Family members (18–45, not the head) gone to work elsewhere, kept as out-flowing residents.
OUTFLOWING = 0.25

#: Regions of first registration: code, home-registration place.
LOCAL = {"420602": "湖北省襄阳市襄城区", "420606": "湖北省襄阳市樊城区"}
HUBEI = {
    "420607": "湖北省襄阳市襄州区",
    "420624": "湖北省襄阳市南漳县",
    "420625": "湖北省襄阳市谷城县",
    "420626": "湖北省襄阳市保康县",
    "420682": "湖北省老河口市",
    "420683": "湖北省枣阳市",
    "420684": "湖北省宜城市",
    "420302": "湖北省十堰市茅箭区",
    "421303": "湖北省随州市曾都区",
    "420802": "湖北省荆门市东宝区",
    "420106": "湖北省武汉市武昌区",
    "421002": "湖北省荆州市沙市区",
}
PROVINCES = {
    "411302": "河南省南阳市宛城区",
    "411381": "河南省邓州市",
    "411323": "河南省南阳市淅川县",
    "410102": "河南省郑州市中原区",
    "500101": "重庆市万州区",
    "510104": "四川省成都市锦江区",
    "430102": "湖南省长沙市芙蓉区",
    "360502": "江西省新余市渝水区",
    "341502": "安徽省六安市金安区",
    "612401": "陕西省安康市汉滨区",
    "610702": "陕西省汉中市汉台区",
}
REGIONS = {**LOCAL, **HUBEI, **PROVINCES}
REGION_CODES = list(REGIONS)
#: Of the floating residents, the share from elsewhere in Hubei (the rest: other provinces).
FLOATING_FROM_HUBEI = 0.6
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 176 177 "
    "178 180 181 182 183 185 186 187 188 189 198 199"
).split()

#: Follow-ups: share done in the month due, outcomes (seen, changed, not found).
FOLLOW_UP_DONE = 0.88
FOLLOW_UP_MONTHS = 12
FOLLOW_UP_OUTCOMES = (("seen", "changed", "not_found"), (0.86, 0.10, 0.04))
LANDLORD_CONTRACTS = (0.80, 0.07)  # valid, expired (the rest: none)
TENANCY_CONTRACTS = 0.85
RATING_MONTHS = 6
#: A criterion is met in full with this chance, else some of its stars.
CRITERION_MET = 0.9
SUPPLIES = (
    ("避孕药具", "盒"),
    ("叶酸片", "瓶"),
    ("计生宣传册", "册"),
    ("口罩", "包"),
)

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
#: No date (the generator's dates are days since 1970, negative before).
NO_DAY = -(10**7)


# ---------------------------------------------------------------------------------------------
# What the generator reads of the city


@dataclass
class Dwellings:
    """The city's dwelling rooms (owner-occupied, let, staff dormitories), by room id."""

    id: np.ndarray
    building: np.ndarray
    kind: np.ndarray  # OWNER, WHOLE, SHARED, DORM
    community: np.ndarray  # index into codes
    landlord: np.ndarray  # 0: none
    compound: np.ndarray  # 0: none
    codes: list[str]
    compound_names: dict[int, str] = field(default_factory=dict)


def read_dwellings() -> Dwellings:
    query = """
        SELECT r.id, r.building_id,
               CASE r.use WHEN 'owner_occupied' THEN 0 WHEN 'rented_whole' THEN 1
                          WHEN 'rented_shared' THEN 2 ELSE 3 END,
               c.code, coalesce(r.landlord_id, 0), coalesce(b.compound_id, 0)
          FROM geo_room r JOIN geo_building b ON b.id = r.building_id
          JOIN geo_community c ON c.id = b.community_id
         WHERE r.use IN ('owner_occupied', 'rented_whole', 'rented_shared')
            OR (r.use = 'other' AND b.use = 'dormitory')
         ORDER BY r.id
    """
    with connection.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall()
        codes = sorted({row[3] for row in rows})
        index = {code: k for k, code in enumerate(codes)}
        n = len(rows)
        dwellings = Dwellings(
            id=np.fromiter((r[0] for r in rows), np.int64, n),
            building=np.fromiter((r[1] for r in rows), np.int64, n),
            kind=np.fromiter((r[2] for r in rows), np.int8, n),
            community=np.fromiter((index[r[3]] for r in rows), np.int32, n),
            landlord=np.fromiter((r[4] for r in rows), np.int64, n),
            compound=np.fromiter((r[5] for r in rows), np.int64, n),
            codes=codes,
        )
        dorm_compounds = np.unique(dwellings.compound[dwellings.kind == DORM]).tolist()
        cursor.execute("SELECT id, name FROM geo_compound WHERE id = ANY(%s)", [dorm_compounds])
        dwellings.compound_names = dict(cursor.fetchall())
    return dwellings


def read_landlords() -> tuple[np.ndarray, list[str]]:
    """Landlords with a let room: ids and their community codes."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT l.id, c.code FROM geo_landlord l JOIN geo_community c ON c.id = l.community_id
                WHERE EXISTS (SELECT 1 FROM geo_room r WHERE r.landlord_id = l.id
                                 AND r.use IN ('rented_whole', 'rented_shared'))
                ORDER BY l.id"""
        )
        rows = cursor.fetchall()
    return np.array([r[0] for r in rows], np.int64), [r[1] for r in rows]


def read_schedules() -> dict[str, tuple[int, list[int]]]:
    """The default follow-up schedule of each category: (id, months)."""
    schedules: dict[str, tuple[int, list[int]]] = {}
    for schedule in FollowUpSchedule.objects.exclude(category="").order_by("code"):
        schedules.setdefault(schedule.category, (schedule.pk, list(schedule.months)))
    return schedules


def read_criteria() -> list[tuple[str, int, str]]:
    """The active star criteria in order: (code, stars, name)."""
    criteria = StarCriterion.objects.filter(active=True).order_by("position", "code")
    return list(criteria.values_list("code", "stars", "name"))


# ---------------------------------------------------------------------------------------------
# The people (pure: numpy, no database)

CATEGORIES = ("community", "floating", "employer", "outflowing")
COMMUNITY, FLOATING, EMPLOYER, OUTFLOWING_CAT = range(4)
RELATIONS = ("head", "spouse", "child", "parent", "tenant", "other")
HEAD, SPOUSE, CHILD, PARENT, TENANT, OTHER = range(6)


@dataclass
class People:
    """Generated rows as arrays; dates are days since 1970-01-01 (:data:`NO_DAY`: none)."""

    today: int
    # households
    hh_room: np.ndarray  # index into Dwellings
    hh_kind: np.ndarray
    hh_created: np.ndarray
    hh_dissolved: np.ndarray
    # residents
    room: np.ndarray  # of the resident's last occupancy (their community)
    category: np.ndarray
    sex_male: np.ndarray
    birth: np.ndarray
    region: np.ndarray  # index into REGION_CODES
    order: np.ndarray  # the three-digit order code of the identity number
    surname: np.ndarray
    given: np.ndarray  # (n, 2) indexes into GIVEN, -1: none
    phone: np.ndarray  # int: prefix index * 10**8 + digits; -1: none
    arrival: np.ndarray
    # occupancies
    occ_resident: np.ndarray
    occ_household: np.ndarray
    occ_relation: np.ndarray
    occ_in: np.ndarray
    occ_out: np.ndarray

    def id_numbers(self) -> list[str]:
        """The residents' identity numbers (GB 11643, check character computed in numpy)."""
        region_digits = np.array([[int(d) for d in code] for code in REGION_CODES], np.int64)
        birth = self.birth.astype("datetime64[D]")
        year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
        digits = np.concatenate(
            [
                region_digits[self.region],
                _digits(year, 4),
                _digits(month, 2),
                _digits(day, 2),
                _digits(self.order, 3),
            ],
            axis=1,
        )
        check = (digits * np.array(WEIGHTS)).sum(axis=1) % 11
        bodies = ["".join(map(str, row)) for row in digits.tolist()]
        return [b + CHECK_CHARACTERS[c] for b, c in zip(bodies, check.tolist(), strict=True)]

    def names(self) -> list[str]:
        given = np.array(list(GIVEN))
        first = given[self.given[:, 0]]
        second = np.where(self.given[:, 1] >= 0, given[self.given[:, 1]], "")
        surname = np.array(list(SURNAMES))[self.surname]
        return np.char.add(np.char.add(surname, first), second).tolist()

    def phones(self) -> list[str]:
        prefix = np.array(MOBILE_PREFIXES)[np.maximum(self.phone, 0) // 10**8]
        number = np.char.zfill((np.maximum(self.phone, 0) % 10**8).astype(str), 8)
        return np.where(self.phone >= 0, np.char.add(prefix, number), "").tolist()


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1)
    return (values[:, None] // powers) % 10


def _pick(rng: np.random.Generator, choices: tuple[Sequence[int], Sequence[float]], n: int) -> Any:
    values, weights = choices
    return rng.choice(np.array(values), n, p=np.array(weights) / sum(weights))


def _days(day: dt.date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


def generate_people(dwellings: Dwellings, today: dt.date, rng: np.random.Generator) -> People:
    """Households, residents and their occupancies (see the module's doc)."""
    now = _days(today)
    kind = dwellings.kind
    n_rooms = len(kind)
    year = 365.25

    # Current households by the kind of their room.
    registered = rng.random(n_rooms) < REGISTERED
    owner = np.flatnonzero((kind == OWNER) & registered)
    let = (kind == WHOLE) | (kind == SHARED)
    occupied = let & registered & (rng.random(n_rooms) < RENTED_OCCUPIED)
    whole = np.flatnonzero(occupied & (kind == WHOLE))
    shared_rooms = np.flatnonzero(occupied & (kind == SHARED))
    shared = np.repeat(shared_rooms, _pick(rng, SHARED_HOUSEHOLDS, len(shared_rooms)))
    dorm = np.flatnonzero((kind == DORM) & (rng.random(n_rooms) < DORM_OCCUPIED))
    hh_room = np.concatenate([owner, whole, shared, dorm])
    hh_kind = np.concatenate(
        [np.full(len(a), k, np.int8) for a, k in ((owner, OWNER), (whole, WHOLE), (shared, SHARED))]
        + [np.full(len(dorm), DORM, np.int8)]
    )
    size = np.concatenate(
        [
            _pick(rng, OWNER_SIZES, len(owner)),
            _pick(rng, WHOLE_SIZES, len(whole)),
            np.where(rng.random(len(shared)) < 0.2, 2, 1),
            rng.integers(*DORM_SIZES, len(dorm)),
        ]
    )
    tenure = np.where(
        hh_kind == OWNER,
        rng.uniform(0, 20 * year, len(hh_kind)),
        np.where(
            hh_kind == DORM,
            rng.uniform(0, 5 * year, len(hh_kind)),
            np.minimum(rng.exponential(420, len(hh_kind)), 6 * year),
        ),
    )
    hh_created = now - 1 - tenure.astype(np.int64)
    hh_dissolved = np.full(len(hh_kind), NO_DAY, np.int64)
    # Tenants who left the city: a former household in some let rooms, gone before the first of
    # today's households came (or some time ago, when nobody lives there now).
    first_current = np.full(n_rooms, now, np.int64)
    np.minimum.at(first_current, hh_room, hh_created)
    former = np.flatnonzero(let & registered & (rng.random(n_rooms) < FORMER_TENANTS))
    gone = first_current[former] - rng.integers(0, 60, len(former))
    came = gone - rng.integers(90, 900, len(former))
    hh_room = np.concatenate([hh_room, former])
    hh_kind = np.concatenate([hh_kind, np.full(len(former), PAST, np.int8)])
    size = np.concatenate([size, np.where(rng.random(len(former)) < 0.25, 2, 1)])
    hh_created = np.concatenate([hh_created, came])
    hh_dissolved = np.concatenate([hh_dissolved, gone])

    # Members.
    n_hh = len(hh_kind)
    member_hh = np.repeat(np.arange(n_hh), size)
    starts = np.r_[0, np.cumsum(size)[:-1]]
    k = np.arange(len(member_hh)) - starts[member_hh]
    n = len(member_hh)
    mkind = hh_kind[member_hh]
    draw = rng.random(n)
    relation = np.full(n, HEAD, np.int8)
    family = (mkind == OWNER) | (mkind == WHOLE)
    relation[(k == 1) & family] = np.where(draw < 0.8, SPOUSE, CHILD)[(k == 1) & family]
    relation[(k == 1) & ((mkind == SHARED) | (mkind == PAST))] = SPOUSE
    relation[(k >= 2) & family] = CHILD
    last_of_big = (k == size[member_hh] - 1) & (size[member_hh] >= 4) & (mkind == OWNER)
    relation[last_of_big & (draw < 0.35)] = PARENT
    relation[(k >= 1) & (mkind == WHOLE) & (draw > 0.93)] = TENANT
    relation[(k >= 1) & (mkind == DORM)] = OTHER

    head_age = np.where(
        hh_kind == OWNER,
        rng.uniform(28, 78, n_hh),
        np.where(hh_kind == DORM, rng.uniform(19, 50, n_hh), rng.uniform(18, 50, n_hh)),
    )[member_hh]
    age = np.select(
        [
            relation == HEAD,
            relation == SPOUSE,
            relation == CHILD,
            relation == PARENT,
        ],
        [
            head_age,
            np.clip(head_age + rng.normal(0, 3, n), 18, 95),
            rng.uniform(0, np.maximum(1, head_age - 20)),
            np.minimum(head_age + rng.uniform(22, 32, n), 96),
        ],
        rng.uniform(18, 55, n),
    )
    birth = now - (age * year).astype(np.int64) - rng.integers(1, 365, n)
    head_male = (rng.random(n_hh) < 0.6)[member_hh]
    sex_male = np.where(relation == HEAD, head_male, rng.random(n) < 0.5)
    sex_male = np.where(relation == SPOUSE, ~head_male, sex_male)

    occ_in = np.maximum(hh_created[member_hh], birth)
    occ_out = hh_dissolved[member_hh].copy()
    # Dormitory staff come one after the other.
    dorm_member = (mkind == DORM) & (k >= 1)
    occ_in[dorm_member] += (rng.random(n) * (now - 1 - occ_in))[dorm_member].astype(np.int64)

    hh_category = np.where(
        np.isin(hh_kind, (WHOLE, SHARED)) & (rng.random(n_hh) < LOCAL_TENANTS), COMMUNITY, FLOATING
    )
    hh_category = np.where(hh_kind == OWNER, COMMUNITY, hh_category)
    hh_category = np.where(hh_kind == DORM, EMPLOYER, hh_category)
    category = hh_category[member_hh].astype(np.int8)

    # Gone to work elsewhere: out-flowing residents of their family's room.
    adult = (now - birth >= 18 * year) & (now - birth < 46 * year)
    leaving = (mkind == OWNER) & (k >= 1) & adult & (rng.random(n) < OUTFLOWING)
    leaving &= occ_in < now - 31
    category[leaving] = OUTFLOWING_CAT
    occ_out[leaving] = (
        occ_in[leaving] + 1 + (rng.random(n) * (now - 1 - occ_in - 1))[leaving].astype(np.int64)
    )

    # Single tenants who came from another let room of the community: a former household there.
    room_community = dwellings.community
    let_rooms = np.flatnonzero(let)
    let_sorted = let_rooms[np.argsort(room_community[let_rooms], kind="stable")]
    let_starts = np.searchsorted(room_community[let_sorted], np.arange(len(dwellings.codes)))
    let_counts = np.bincount(room_community[let_rooms], minlength=len(dwellings.codes))
    movers = np.flatnonzero(
        np.isin(mkind, (WHOLE, SHARED))
        & (size[member_hh] == 1)
        & (category == FLOATING)
        & (rng.random(n) < MOVERS)
    )
    c = room_community[hh_room[member_hh[movers]]]
    before = let_sorted[let_starts[c] + (rng.random(len(movers)) * let_counts[c]).astype(np.int64)]
    movers_ok = before != hh_room[member_hh[movers]]
    movers, before = movers[movers_ok], before[movers_ok]
    moved_in_before = occ_in[movers] - rng.integers(60, 900, len(movers))
    prev_hh = n_hh + np.arange(len(movers))
    hh_room = np.concatenate([hh_room, before])
    hh_kind = np.concatenate([hh_kind, np.full(len(movers), MOVED_FROM, np.int8)])
    hh_created = np.concatenate([hh_created, moved_in_before])
    hh_dissolved = np.concatenate([hh_dissolved, occ_in[movers]])

    occ_resident = np.concatenate([np.arange(n), movers])
    occ_household = np.concatenate([member_hh, prev_hh])
    occ_relation = np.concatenate([relation, np.full(len(movers), HEAD, np.int8)])
    first_in = occ_in.copy()
    first_in[movers] = moved_in_before
    occ_in_all = np.concatenate([occ_in, moved_in_before])
    occ_out_all = np.concatenate([occ_out, occ_in[movers]])

    arrival = np.where(
        category == FLOATING,
        np.maximum(birth, first_in - rng.integers(0, 400, n)),
        np.where(category == EMPLOYER, occ_in, NO_DAY),
    )

    # Identity numbers: the region, then an order code unique within region, birth date, sex.
    local = np.array([REGION_CODES.index(code[:6]) if code[:6] in LOCAL else 0 for code in
                      dwellings.codes])[room_community[hh_room[member_hh]]]  # fmt: skip
    hubei = len(LOCAL) + rng.integers(0, len(HUBEI), n)
    other = len(LOCAL) + len(HUBEI) + rng.integers(0, len(PROVINCES), n)
    away = np.where(rng.random(n) < FLOATING_FROM_HUBEI, hubei, other)
    region = np.where(
        category == FLOATING,
        away,
        np.where((category == EMPLOYER) & (rng.random(n) < 0.5), away, local),
    )
    order = np.lexsort((np.arange(n), sex_male, birth, region))
    key = np.stack([region[order], birth[order], sex_male[order]], axis=1)
    new_group = np.r_[True, (key[1:] != key[:-1]).any(axis=1)]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - group_start
    if n and rank.max() >= 500:
        raise ValueError("more than 500 people of one region, birth date and sex")
    id_order = rank * 2 + sex_male

    surname = rng.integers(0, len(SURNAMES), n)
    heads = starts[member_hh]
    child = relation == CHILD
    surname[child] = surname[heads[child]]  # children take the head's surname
    given = rng.integers(0, len(GIVEN), (n, 2))
    given[rng.random(n) < 0.35, 1] = -1
    phone = rng.integers(0, len(MOBILE_PREFIXES), n) * 10**8 + rng.integers(0, 10**8, n)
    phone[now - birth < 16 * year] = -1

    return People(
        today=now,
        hh_room=hh_room,
        hh_kind=hh_kind,
        hh_created=hh_created,
        hh_dissolved=hh_dissolved,
        room=hh_room[member_hh],
        category=category,
        sex_male=sex_male,
        birth=birth,
        region=region,
        order=id_order,
        surname=surname,
        given=given,
        phone=phone,
        arrival=arrival,
        occ_resident=occ_resident,
        occ_household=occ_household,
        occ_relation=occ_relation,
        occ_in=occ_in_all,
        occ_out=occ_out_all,
    )


# ---------------------------------------------------------------------------------------------
# Writing


def _dates(days: np.ndarray) -> list[str]:
    text = np.datetime_as_string(days.astype("datetime64[D]"))
    return np.where(days != NO_DAY, text, NULL).tolist()


def _month_starts(today: dt.date, count: int) -> list[dt.date]:
    """The first days of the ``count`` months before ``today``'s, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append(dt.date(year, month, 1))
    return months[::-1]


#: Seconds of each table's COPY (rows made and stored) in the last load.
COPY_SECONDS: dict[str, float] = {}


def _copy(table: str, columns: Sequence[str], rows: Iterable[str]) -> int:
    """COPY text rows (tab-separated, escaped, ending in a newline) into ``table``."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count, started = 0, time.perf_counter()
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        chunk: list[str] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= 50_000:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk = []
        copy.write("".join(chunk))
        count += len(chunk)
    name = table.removeprefix("registry_")
    COPY_SECONDS[name] = COPY_SECONDS.get(name, 0.0) + time.perf_counter() - started
    return count


def _reserve(model: type[models.Model], count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, np.int64)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return np.array([row[0] for row in cursor.fetchall()], np.int64)


def encrypt_many(values: Sequence[str], *, context: str) -> list[str]:
    """``registry.crypto.encrypt`` of each value with one AES-GCM object (empty stays empty)."""
    ring = crypto.keyring()
    aes = AESGCM(ring.key(ring.current))
    prefix = ring.current + "$"
    aad = context.encode()
    nonces = secrets.token_bytes(crypto.NONCE_BYTES * len(values))
    out = []
    b64 = base64.b64encode
    for k, value in enumerate(values):
        if not value:
            out.append("")
            continue
        nonce = nonces[12 * k : 12 * k + 12]
        out.append(prefix + b64(nonce + aes.encrypt(nonce, value.encode(), aad)).decode())
    return out


def search_hashes(values: Sequence[str], *, kind: str) -> list[str]:
    """``registry.crypto.search_hash`` of each value."""
    key = crypto.keyring().search_key
    return [hmac.digest(key, f"{kind}:{v}".encode(), "sha256").hex() for v in values]


def _insert_triggers(model: type[models.Model]) -> list[str]:
    """The names of the pghistory insert-event triggers of ``model``'s table."""
    return [
        trigger.get_pgid(tracked)
        for tracked, trigger in pgtrigger.registered()
        if tracked is model
        and isinstance(trigger, pghistory.trigger.Event)
        and trigger.label == "insert"
    ]


TRACKED = (
    Household,
    Resident,
    Occupancy,
    FollowUp,
    LandlordContract,
    TenancyContract,
    StarRating,
    Rectification,
    RentWithdrawal,
    SupplyDistribution,
)


def _switch_history(on: bool) -> None:
    with connection.cursor() as cursor:
        for model in TRACKED:
            for name in _insert_triggers(model):
                cursor.execute(
                    sql.SQL("ALTER TABLE {} {} TRIGGER {}")
                    .format(
                        sql.Identifier(model._meta.db_table),
                        sql.SQL("ENABLE" if on else "DISABLE"),
                        sql.Identifier(name),
                    )
                    .as_string()
                )


def _drop_foreign_keys() -> list[tuple[str, str, str]]:
    """Drop the foreign keys of the loaded tables (table, name, definition): checked row by row
    as the rows come they cost more than the COPY; added again after it, each is checked by one
    query over the whole table."""
    tables = [model._meta.db_table for model in TRACKED]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}")
                .format(sql.Identifier(table.strip('"')), sql.Identifier(name))
                .as_string()
            )
    return keys


def _add_foreign_keys(keys: list[tuple[str, str, str]]) -> None:
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ")
                .format(sql.Identifier(table.strip('"')), sql.Identifier(name))
                .as_string()
                + definition
            )


def has_people() -> bool:
    with personal(system=True):
        return Resident.objects.exists()


def load_people(
    *, today: dt.date | None = None, seed: int = SEED, progress: Any = None
) -> dict[str, Any]:
    """Generate the people of the city in the database and write them (one transaction); the
    figures: rows per table and seconds."""
    say = progress or (lambda _text: None)
    today = today or timezone.localdate()
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    dwellings = read_dwellings()
    landlords, landlord_codes = read_landlords()
    schedules = read_schedules()
    criteria = read_criteria()
    people = generate_people(dwellings, today, rng)
    COPY_SECONDS.clear()
    figures: dict[str, Any] = {"generate_s": round(time.perf_counter() - started, 1)}
    say(f"generated {len(people.birth)} residents in {figures['generate_s']} s")
    with transaction.atomic():
        with connection.cursor() as cursor:
            # No check left pending when the tables are altered (PostgreSQL refuses it).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _switch_history(on=False)
        foreign_keys = _drop_foreign_keys()
        with personal(system=True, role=ADMINISTRATOR):
            figures |= _write(people, dwellings, landlords, landlord_codes, schedules, criteria,
                              today, rng, say)  # fmt: skip
        started_keys = time.perf_counter()
        _add_foreign_keys(foreign_keys)
        figures["foreign_keys_s"] = round(time.perf_counter() - started_keys, 1)
        _switch_history(on=True)
    with connection.cursor() as cursor:
        for model in TRACKED:
            cursor.execute(
                sql.SQL("ANALYZE {}").format(sql.Identifier(model._meta.db_table)).as_string()
            )
    figures["copy_s"] = " ".join(f"{k}={v:.1f}" for k, v in COPY_SECONDS.items())
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def _write(
    people: People,
    dwellings: Dwellings,
    landlords: np.ndarray,
    landlord_codes: list[str],
    schedules: dict[str, tuple[int, list[int]]],
    criteria: list[tuple[str, int, str]],
    today: dt.date,
    rng: np.random.Generator,
    say: Any,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    now = people.today
    codes = np.array(dwellings.codes)

    # Households.
    started = time.perf_counter()
    hh_ids = _reserve(Household, len(people.hh_room))
    hh_code = codes[dwellings.community[people.hh_room]].tolist()
    figures["households"] = _copy(
        Household._meta.db_table,
        ("id", "room_id", "community_code", "created_on", "dissolved_on"),
        (
            f"{a}\t{b}\t{c}\t{d}\t{e}\n"
            for a, b, c, d, e in zip(
                hh_ids.tolist(),
                dwellings.id[people.hh_room].tolist(),
                hh_code,
                _dates(people.hh_created),
                _dates(people.hh_dissolved),
                strict=True,
            )
        ),
    )

    # Residents.
    n = len(people.birth)
    ids = people.id_numbers()
    phones = people.phones()
    t = time.perf_counter()
    id_cipher = encrypt_many(ids, context=ID_CONTEXT)
    phone_cipher = encrypt_many(phones, context=PHONE_CONTEXT)
    id_hash = search_hashes(ids, kind="id")
    figures["encrypt_s"] = round(time.perf_counter() - t, 1)
    res_ids = _reserve(Resident, n)
    res_code = codes[dwellings.community[people.room]].tolist()
    names = people.names()
    home = [REGIONS[REGION_CODES[r]] for r in people.region.tolist()]
    employer = [
        dwellings.compound_names.get(c, "").translate(_ESCAPE)[:100] if cat == EMPLOYER else ""
        for c, cat in zip(
            dwellings.compound[people.room].tolist(), people.category.tolist(), strict=True
        )
    ]
    schedule_of = [str(schedules[c][0]) if c in schedules else NULL for c in CATEGORIES]
    stamp = timezone.now().isoformat()
    figures["residents"] = _copy(
        Resident._meta.db_table,
        (
            "id community_code name sex birth_date id_number id_number_hash id_number_masked "
            "home_registration phone phone_masked employer arrival_date category schedule_id "
            "created_at updated_at"
        ).split(),
        (
            f"{pk}\t{code}\t{name}\t{'m' if male else 'f'}\t{born}\t{ic}\t{ih}\t"
            f"{number[:4]}**********{number[-4:]}\t{place}\t{pc}\t{mask_phone(phone)}\t{work}\t"
            f"{came}\t{CATEGORIES[cat]}\t{schedule_of[cat]}\t{stamp}\t{stamp}\n"
            for pk, code, name, male, born, ic, ih, number, place, pc, phone, work, came, cat in zip(
                res_ids.tolist(),
                res_code,
                names,
                people.sex_male.tolist(),
                _dates(people.birth),
                id_cipher,
                id_hash,
                ids,
                home,
                phone_cipher,
                phones,
                employer,
                _dates(people.arrival),
                people.category.tolist(),
                strict=True,
            )
        ),
    )
    say(f"residents written, {time.perf_counter() - started:.0f} s")

    # Occupancies.
    occ_room = people.hh_room[people.occ_household]
    figures["occupancies"] = _copy(
        Occupancy._meta.db_table,
        (
            "resident_id",
            "household_id",
            "room_id",
            "community_code",
            "relation",
            "moved_in",
            "moved_out",
        ),
        (
            f"{a}\t{b}\t{c}\t{d}\t{RELATIONS[e]}\t{f}\t{g}\n"
            for a, b, c, d, e, f, g in zip(
                res_ids[people.occ_resident].tolist(),
                hh_ids[people.occ_household].tolist(),
                dwellings.id[occ_room].tolist(),
                codes[dwellings.community[occ_room]].tolist(),
                people.occ_relation.tolist(),
                _dates(people.occ_in),
                _dates(people.occ_out),
                strict=True,
            )
        ),
    )

    # Follow-ups by schedule, month by month.
    figures["follow_ups"] = _follow_ups(people, res_ids, res_code, schedules, today, rng)

    # Landlord responsibility contracts.
    draw = rng.random(len(landlords))
    has = draw < sum(LANDLORD_CONTRACTS)
    expired = draw >= LANDLORD_CONTRACTS[0]
    signed = np.where(
        expired, now - rng.integers(3 * 366 + 30, 5 * 365, len(landlords)),
        now - rng.integers(1, 3 * 365, len(landlords)),
    )  # fmt: skip
    expires = signed + 3 * 365
    figures["landlord_contracts"] = _copy(
        LandlordContract._meta.db_table,
        ("landlord_id", "community_code", "signed_on", "expires_on", "scan", "scan_type"),
        (
            f"{a}\t{b}\t{c}\t{d}\t\t\n"
            for a, b, c, d, keep in zip(
                landlords.tolist(),
                landlord_codes,
                _dates(signed),
                _dates(expires),
                has.tolist(),
                strict=True,
            )
            if keep
        ),
    )

    # Tenancy contracts: the head of each tenant household today, signed when they moved in.
    heads = np.flatnonzero(
        (people.occ_relation == HEAD)
        & (people.occ_out == NO_DAY)
        & np.isin(people.hh_kind[people.occ_household], (WHOLE, SHARED))
    )
    heads = heads[rng.random(len(heads)) < TENANCY_CONTRACTS]
    t_signed = people.occ_in[heads]
    years = np.ceil((now - t_signed + 1) / 365).astype(np.int64)
    lapsed = rng.random(len(heads)) < 0.1
    t_expires = t_signed + 365 * np.where(lapsed, np.maximum(years - 1, 1), years)
    t_room = people.hh_room[people.occ_household[heads]]
    figures["tenancy_contracts"] = _copy(
        TenancyContract._meta.db_table,
        (
            "room_id",
            "landlord_id",
            "tenant_id",
            "community_code",
            "signed_on",
            "expires_on",
            "scan",
            "scan_type",
        ),
        (
            f"{a}\t{b or NULL}\t{c}\t{d}\t{e}\t{f}\t\t\n"
            for a, b, c, d, e, f in zip(
                dwellings.id[t_room].tolist(),
                dwellings.landlord[t_room].tolist(),
                res_ids[people.occ_resident[heads]].tolist(),
                codes[dwellings.community[t_room]].tolist(),
                _dates(t_signed),
                _dates(t_expires),
                strict=True,
            )
        ),
    )

    figures |= _ratings(dwellings, criteria, today, rng)
    figures["supplies"] = _supplies(people, dwellings, hh_ids, res_ids, today, rng)
    say(f"all written, {time.perf_counter() - started:.0f} s")
    return figures


def _follow_ups(
    people: People,
    res_ids: np.ndarray,
    res_code: list[str],
    schedules: dict[str, tuple[int, list[int]]],
    today: dt.date,
    rng: np.random.Generator,
) -> int:
    """Follow-ups in each month due of the last :data:`FOLLOW_UP_MONTHS` months (and this month
    so far): due for a resident who came before the month, while on the register here (the
    out-flowing ones too, from afar); most done in the month, a few in the next."""
    now = people.today
    first_in = np.full(len(people.birth), now, np.int64)
    np.minimum.at(first_in, people.occ_resident, people.occ_in)
    start = np.where(people.arrival != NO_DAY, np.maximum(people.arrival, first_in), first_in)
    # Tenants who left the city are followed up no more from the day they left.
    last_out = np.full(len(people.birth), NO_DAY, np.int64)
    current = people.occ_out == NO_DAY
    np.maximum.at(last_out, people.occ_resident, np.where(current, now + 1, people.occ_out))
    active_until = np.where(people.category == OUTFLOWING_CAT, now + 1, last_out)
    months_of = {k: set(schedules[c][1]) for k, c in enumerate(CATEGORIES) if c in schedules}
    residents: list[np.ndarray] = []
    done: list[np.ndarray] = []
    months = [*_month_starts(today, FOLLOW_UP_MONTHS), today.replace(day=1)]
    for first in months:
        nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        lo, hi = _days(first), min(_days(nxt), now)
        due_cats = [k for k, m in months_of.items() if first.month in m]
        if not due_cats or hi <= lo:
            continue
        due = np.isin(people.category, due_cats) & (start < lo) & (active_until > lo)
        chance = FOLLOW_UP_DONE * (hi - lo) / (_days(nxt) - lo)
        in_month = due & (rng.random(len(due)) < chance)
        picked = np.flatnonzero(in_month)
        day = lo + (rng.random(len(picked)) * (hi - lo)).astype(np.int64)
        late = np.flatnonzero(due & ~in_month & (rng.random(len(due)) < 0.3))
        late_day = _days(nxt) + rng.integers(0, 20, len(late))
        keep = late_day < now
        residents += [picked, late[keep]]
        done += [day, late_day[keep]]
    who = np.concatenate(residents) if residents else np.zeros(0, np.int64)
    when = np.concatenate(done) if done else np.zeros(0, np.int64)
    outcome = _pick(rng, ((0, 1, 2), FOLLOW_UP_OUTCOMES[1]), len(who))
    return _copy(
        FollowUp._meta.db_table,
        ("resident_id", "community_code", "done_on", "outcome", "note", "recorded_by_id"),
        (
            f"{res_ids[r]}\t{res_code[r]}\t{d}\t{FOLLOW_UP_OUTCOMES[0][o]}\t\t{NULL}\n"
            for r, d, o in zip(who.tolist(), _dates(when), outcome.tolist(), strict=True)
        ),
    )


def _ratings(
    dwellings: Dwellings,
    criteria: list[tuple[str, int, str]],
    today: dt.date,
    rng: np.random.Generator,
) -> dict[str, int]:
    """Star ratings of every rental building for the last months, their orders to rectify and
    the withdrawals of the right to rent that followed the orders not done in time."""
    figures = {"star_ratings": 0, "rectifications": 0, "withdrawals": 0}
    if not criteria:
        return figures
    now = _days(today)
    let = (dwellings.kind == WHOLE) | (dwellings.kind == SHARED)
    buildings, first = np.unique(dwellings.building[let], return_index=True)
    building_code = np.array(dwellings.codes)[dwellings.community[let][first]]
    months = _month_starts(today, RATING_MONTHS)
    nb, nm = len(buildings), len(months)
    building = np.repeat(buildings, nm)
    code = np.repeat(building_code, nm)
    month = np.tile(np.array([_days(m) for m in months], np.int64), nb)
    stars_of = np.array([s for _, s, _ in criteria], np.int64)
    met = rng.random((nb * nm, len(criteria))) < CRITERION_MET
    partial = (rng.random((nb * nm, len(criteria))) * stars_of).astype(np.int64)
    scores = np.where(met, stars_of, partial)
    total = np.minimum(scores.sum(axis=1), 12)
    rules = star_rules()  # rewards and orders to rectify by the rating's own rules
    reward = np.full(len(total), "", dtype=object)
    for minimum, name in sorted(rules["rewards"], key=lambda rule: rule[0]):
        reward[total >= minimum] = name  # the highest reached is kept
    ids = _reserve(StarRating, len(total))
    criterion_codes = [c for c, _, _ in criteria]
    score_text = [
        json.dumps(dict(zip(criterion_codes, row, strict=True)), ensure_ascii=False)
        for row in scores.tolist()
    ]
    rated_at = timezone.now().isoformat()
    figures["star_ratings"] = _copy(
        StarRating._meta.db_table,
        (
            "id",
            "building_id",
            "community_code",
            "month",
            "scores",
            "stars",
            "reward",
            "rated_by_id",
            "rated_at",
        ),
        (
            f"{a}\t{b}\t{c}\t{d}\t{e.translate(_ESCAPE)}\t{f}\t{g}\t{NULL}\t{rated_at}\n"
            for a, b, c, d, e, f, g in zip(
                ids.tolist(),
                building.tolist(),
                code.tolist(),
                _dates(month),
                score_text,
                total.tolist(),
                reward.tolist(),
                strict=True,
            )
        ),
    )
    # Orders to rectify: given on the day of rating, in the month after the month rated.
    low = np.flatnonzero(total < rules["rectify_below"])
    ordered = month[low] + 31 + rng.integers(0, 10, len(low))
    keep = ordered < now
    low, ordered = low[keep], ordered[keep]
    deadline = ordered + rules["rectify_days"]
    closed = rng.random(len(low)) < np.where(deadline < now, 0.85, 0.4)
    done_on = np.where(
        closed,
        np.minimum(ordered + rng.integers(3, rules["rectify_days"] + 1, len(low)), now - 1),
        NO_DAY,
    )
    done_on = np.where(done_on > ordered, done_on, np.where(closed, ordered, NO_DAY))
    names = [name for _, _, name in criteria]
    missed = [  # as registry.ratings lists them: one criterion a line, "消防安全 1/2"
        "\n".join(
            f"{name} {got}/{full}"
            for name, got, full in zip(names, row, stars_of.tolist(), strict=True)
            if got < full
        ).translate(_ESCAPE)
        for row in scores[low].tolist()
    ]
    figures["rectifications"] = _copy(
        Rectification._meta.db_table,
        (
            "building_id",
            "community_code",
            "rating_id",
            "issues",
            "ordered_on",
            "deadline",
            "done_on",
        ),
        (
            f"{a}\t{b}\t{c}\t{d or '-'}\t{e}\t{f}\t{g}\n"
            for a, b, c, d, e, f, g in zip(
                building[low].tolist(),
                code[low].tolist(),
                ids[low].tolist(),
                missed,
                _dates(ordered),
                _dates(deadline),
                _dates(done_on),
                strict=True,
            )
        ),
    )
    # Withdrawals: some orders left undone past their deadline; one open per building.
    overdue = np.flatnonzero(
        (done_on == NO_DAY) & (deadline + 7 < now) & (rng.random(len(low)) < 0.3)
    )
    _, one = np.unique(building[low[overdue]], return_index=True)
    overdue = overdue[one]
    withdrawn = deadline[overdue] + 7
    restored = np.where(rng.random(len(overdue)) < 0.3, np.minimum(withdrawn + 60, now - 1), NO_DAY)
    restored = np.where(restored > withdrawn, restored, NO_DAY)
    figures["withdrawals"] = _copy(
        RentWithdrawal._meta.db_table,
        ("building_id", "community_code", "reason", "withdrawn_on", "restored_on"),
        (
            f"{a}\t{b}\t整改逾期未完成\t{c}\t{d}\n"
            for a, b, c, d in zip(
                building[low[overdue]].tolist(),
                code[low[overdue]].tolist(),
                _dates(withdrawn),
                _dates(restored),
                strict=True,
            )
        ),
    )
    return figures


def _supplies(
    people: People,
    dwellings: Dwellings,
    hh_ids: np.ndarray,
    res_ids: np.ndarray,
    today: dt.date,
    rng: np.random.Generator,
) -> int:
    """Free supplies of the last six months to some households of today (most to tenants),
    received by the head."""
    now = people.today
    heads = np.flatnonzero((people.occ_relation == HEAD) & (people.occ_out == NO_DAY))
    hh = people.occ_household[heads]
    tenant = np.isin(people.hh_kind[hh], (WHOLE, SHARED))
    chosen = rng.random(len(heads)) < np.where(tenant, 0.35, 0.10)
    heads, hh = heads[chosen], hh[chosen]
    lines = rng.integers(1, 4, len(heads))
    head = np.repeat(heads, lines)
    household = np.repeat(hh, lines)
    item = rng.integers(0, len(SUPPLIES), len(head))
    quantity = rng.integers(1, 4, len(head))
    given = np.maximum(now - rng.integers(1, 183, len(head)), people.occ_in[head])
    code = np.array(dwellings.codes)[dwellings.community[people.hh_room[household]]]
    return _copy(
        SupplyDistribution._meta.db_table,
        (
            "household_id",
            "community_code",
            "item",
            "quantity",
            "unit",
            "given_on",
            "received_by_id",
            "given_by_id",
            "note",
        ),
        (
            f"{a}\t{b}\t{SUPPLIES[c][0]}\t{d}\t{SUPPLIES[c][1]}\t{e}\t{f}\t{NULL}\t\n"
            for a, b, c, d, e, f in zip(
                hh_ids[household].tolist(),
                code.tolist(),
                item.tolist(),
                quantity.tolist(),
                _dates(given),
                res_ids[people.occ_resident[head]].tolist(),
                strict=True,
            )
        ),
    )
