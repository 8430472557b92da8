"""The people register (二表一卡): households and residents hung off rooms, occupancy over time,
follow-up schedules, landlord and tenancy contracts, the monthly star rating of rental houses, and
the access log of personal data.

Personal fields are never stored in clear: identity numbers and phones are AES-GCM ciphertexts
(``registry.crypto``) with a keyed hash for search and a masked form for display. Every personal
table carries the community code it belongs to, which both ``visible_to(user)`` and PostgreSQL's
row-level security read (migration ``0002_row_level_security``).
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gis.models import Building, Landlord, Room

from . import querysets

COMMUNITY_CODE = r"^[0-9]{12}$"


#: Who acted on a personal row (table, column). Deleting a user sets these to NULL in the database
#: (constraints of migration 0005), not through Django: its deletion collector would read the
#: personal tables outside a user context, where row-level security shows none of their rows.
ACTOR_FOREIGN_KEYS = (
    ("registry_followup", "recorded_by_id"),
    ("registry_supplydistribution", "given_by_id"),
    ("registry_starrating", "rated_by_id"),
)


def _history() -> tuple[pghistory.RowEvent, ...]:
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


def _community_code() -> models.CharField:
    return models.CharField(_("community code"), max_length=12, db_index=True)


def _code_shape(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(community_code__regex=COMMUNITY_CODE), name=f"{name}_community_code"
    )


class Category(models.TextChoices):
    """Xinyu's four kinds of resident (新余模式)."""

    COMMUNITY = "community", _("community resident")
    EMPLOYER = "employer", _("employer staff")
    FLOATING = "floating", _("floating resident")
    OUTFLOWING = "outflowing", _("out-flowing resident")


class Sex(models.TextChoices):
    MALE = "m", _("male")
    FEMALE = "f", _("female")


class FollowUpSchedule(models.Model):
    """When residents of a kind are followed up, as data: the months of the year a follow-up is
    due (by the month's end), e.g. floating residents in January, April, July and October."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    months = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("months due"))
    category = models.CharField(
        _("default for category"),
        max_length=12,
        choices=Category.choices,
        blank=True,
        help_text=_("Residents of this category get this schedule unless another is chosen."),
    )

    class Meta:
        verbose_name = _("follow-up schedule")
        verbose_name_plural = _("follow-up schedules")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(months__contained_by=list(range(1, 13))) & ~Q(months=[]),
                name="follow_up_schedule_months",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_history())
class Household(models.Model):
    """户: one household living in a room; its residents come and go through occupancies."""

    objects = querysets.HouseholdQuerySet.as_manager()

    room = models.ForeignKey(
        Room,
        models.DO_NOTHING,  # the database refuses deleting a room that still has households
        related_name="households",
        verbose_name=_("room"),
    )
    community_code = _community_code()
    created_on = models.DateField(_("registered on"))
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["id"]
        constraints = [_code_shape("household")]

    def __str__(self) -> str:
        return f"{_('household')} {self.pk}"


@pghistory.track(*_history())
class Resident(models.Model):
    """One person, one file (一人一档): the seeds' key fields only.

    ``id_number`` and ``phone`` are ciphertexts; ``id_number_hash`` finds a person by number
    (unique: one file per number); ``id_number_masked`` and ``phone_masked`` are what pages show.
    """

    objects = querysets.ResidentQuerySet.as_manager()

    community_code = _community_code()
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    id_number = models.TextField(_("identity number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, null=True, editable=False)
    id_number_masked = models.CharField(_("identity number"), max_length=18, blank=True)
    home_registration = models.CharField(_("home registration place"), max_length=100, blank=True)
    phone = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    arrival_date = models.DateField(_("arrival date"), null=True, blank=True)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    schedule = models.ForeignKey(
        FollowUpSchedule,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("follow-up schedule"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]
        permissions = [("reveal_resident", _("Can reveal identity numbers and phones"))]
        constraints = [
            _code_shape("resident"),
            models.UniqueConstraint(fields=["id_number_hash"], name="resident_one_file_per_id"),
            models.CheckConstraint(
                condition=Q(id_number_hash__isnull=True, id_number="")
                | Q(id_number_hash__isnull=False) & ~Q(id_number=""),
                name="resident_id_number_with_hash",
            ),
        ]
        indexes = [models.Index(fields=["name", "birth_date"], name="resident_name_birth")]

    def __str__(self) -> str:
        return self.name


class Relation(models.TextChoices):
    HEAD = "head", _("head of household")
    SPOUSE = "spouse", _("spouse")
    CHILD = "child", _("child")
    PARENT = "parent", _("parent")
    TENANT = "tenant", _("tenant")
    OTHER = "other", _("other")


@pghistory.track(*_history())
class Occupancy(models.Model):
    """A resident living in a household (and so in its room) from ``moved_in`` until
    ``moved_out`` (exclusive; open while living there). Periods of one resident never overlap."""

    objects = querysets.OccupancyQuerySet.as_manager()

    resident = models.ForeignKey(
        Resident, models.CASCADE, related_name="occupancies", verbose_name=_("resident")
    )
    household = models.ForeignKey(
        Household, models.CASCADE, related_name="occupancies", verbose_name=_("household")
    )
    room = models.ForeignKey(
        Room, models.DO_NOTHING, related_name="occupancies", verbose_name=_("room")
    )
    community_code = _community_code()
    relation = models.CharField(_("relation to the head"), max_length=8, choices=Relation.choices)
    moved_in = models.DateField(_("moved in"))
    moved_out = models.DateField(_("moved out"), null=True, blank=True)

    class Meta:
        verbose_name = _("occupancy")
        verbose_name_plural = _("occupancies")
        ordering = ["moved_in", "id"]
        constraints = [
            _code_shape("occupancy"),
            models.CheckConstraint(
                condition=Q(moved_out__isnull=True) | Q(moved_out__gt=F("moved_in")),
                name="occupancy_moves_out_after_moving_in",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="head", moved_out__isnull=True),
                name="occupancy_one_current_head",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "moved_in"], name="occupancy_room"),
            models.Index(fields=["resident", "moved_in"], name="occupancy_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} @ {self.room_id} {self.moved_in}…{self.moved_out or ''}"


class Outcome(models.TextChoices):
    SEEN = "seen", _("seen, details confirmed")
    CHANGED = "changed", _("seen, details changed")
    MOVED_AWAY = "moved_away", _("moved away")
    NOT_FOUND = "not_found", _("not found")


@pghistory.track(*_history())
class FollowUp(models.Model):
    """One follow-up of a resident (走访核查), recorded with its outcome."""

    resident = models.ForeignKey(
        Resident, models.CASCADE, related_name="follow_ups", verbose_name=_("resident")
    )
    community_code = _community_code()
    done_on = models.DateField(_("done on"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
    )  # ON DELETE SET NULL in the database: see ACTOR_FOREIGN_KEYS

    objects = querysets.PersonalQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-done_on", "-id"]
        constraints = [_code_shape("follow_up")]
        indexes = [models.Index(fields=["resident", "done_on"], name="follow_up_resident")]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.done_on} {self.outcome}"


def _scan_path(instance: Contract, filename: str) -> str:
    return f"registry/scans/{instance._meta.model_name}/{instance.community_code}/{filename}"


class Contract(models.Model):
    community_code = _community_code()
    signed_on = models.DateField(_("signed on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    # The scanned copy, AES-GCM encrypted on disk (registry.contracts).
    scan = models.FileField(_("scanned copy"), upload_to=_scan_path, blank=True, max_length=300)
    scan_type = models.CharField(max_length=40, blank=True)

    objects = querysets.ContractQuerySet.as_manager()

    class Meta:
        abstract = True


@pghistory.track(*_history())
class LandlordContract(Contract):
    """治安责任书: the landlord's responsibility contract with the community."""

    landlord = models.ForeignKey(
        Landlord, models.DO_NOTHING, related_name="contracts", verbose_name=_("landlord")
    )

    class Meta:
        verbose_name = _("landlord responsibility contract")
        verbose_name_plural = _("landlord responsibility contracts")
        ordering = ["-signed_on", "id"]
        constraints = [
            _code_shape("landlord_contract"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("signed_on")),
                name="landlord_contract_expires_after_signing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.landlord_id} {self.signed_on}"


@pghistory.track(*_history())
class TenancyContract(Contract):
    """租赁合同: a landlord lets a room to a tenant (a resident)."""

    room = models.ForeignKey(
        Room, models.DO_NOTHING, related_name="tenancy_contracts", verbose_name=_("room")
    )
    landlord = models.ForeignKey(
        Landlord,
        models.DO_NOTHING,
        null=True,
        related_name="tenancy_contracts",
        verbose_name=_("landlord"),
    )
    tenant = models.ForeignKey(
        Resident, models.CASCADE, related_name="tenancy_contracts", verbose_name=_("tenant")
    )

    class Meta:
        verbose_name = _("tenancy contract")
        verbose_name_plural = _("tenancy contracts")
        ordering = ["-signed_on", "id"]
        constraints = [
            _code_shape("tenancy_contract"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("signed_on")),
                name="tenancy_contract_expires_after_signing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.signed_on}"


@pghistory.track(*_history())
class SupplyDistribution(models.Model):
    """One line of the supplies distribution register (物资发放登记): what a household received."""

    household = models.ForeignKey(
        Household, models.CASCADE, related_name="supplies", verbose_name=_("household")
    )
    community_code = _community_code()
    item = models.CharField(_("item"), max_length=100)
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    given_on = models.DateField(_("given on"))
    received_by = models.ForeignKey(
        "Resident",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
    )  # ON DELETE SET NULL in the database: see ACTOR_FOREIGN_KEYS
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = querysets.PersonalQuerySet.as_manager()

    class Meta:
        verbose_name = _("supplies distribution")
        verbose_name_plural = _("supplies distributions")
        ordering = ["-given_on", "id"]
        constraints = [
            _code_shape("supply_distribution"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="supply_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.item} {self.quantity}"


# ---------------------------------------------------------------------------------------------
# The monthly star rating of rental houses (出租房屋星级评定, twelve stars).


class StarCriterion(models.Model):
    """One criterion of the rating and the stars it is worth; the criteria of a month are the
    active ones, and their stars add up to twelve (checked by the rating service)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    stars = models.PositiveSmallIntegerField(_("stars"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("star criterion")
        verbose_name_plural = _("star criteria")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=12), name="star_criterion_stars"
            )
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_history())
class StarRating(models.Model):
    """The rating of one rental house (a building) for one month: stars per criterion, the
    total, a reward, and the consequences (rectification orders, withdrawal of the right to
    rent). A month is rated once; a correction is a new version and the history keeps the old."""

    building = models.ForeignKey(
        Building, models.DO_NOTHING, related_name="star_ratings", verbose_name=_("building")
    )
    community_code = _community_code()
    month = models.DateField(_("month"))  # the first day of the month rated
    scores = models.JSONField(_("stars per criterion"), default=dict)
    stars = models.PositiveSmallIntegerField(_("stars"))
    reward = models.CharField(_("reward"), max_length=100, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
    )  # ON DELETE SET NULL in the database: see ACTOR_FOREIGN_KEYS
    rated_at = models.DateTimeField(_("rated at"), auto_now=True)

    objects = querysets.PersonalQuerySet.as_manager()

    class Meta:
        verbose_name = _("star rating")
        verbose_name_plural = _("star ratings")
        ordering = ["-month", "building"]
        constraints = [
            _code_shape("star_rating"),
            models.UniqueConstraint(fields=["building", "month"], name="star_rating_monthly"),
            models.CheckConstraint(condition=Q(stars__lte=12), name="star_rating_twelve"),
            models.CheckConstraint(condition=Q(month__day=1), name="star_rating_month_start"),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.month:%Y-%m} {self.stars}★"


@pghistory.track(*_history())
class Rectification(models.Model):
    """An order to rectify (整改通知) with a deadline; closed when done, or it leads to the
    withdrawal of the right to rent."""

    building = models.ForeignKey(
        Building, models.DO_NOTHING, related_name="rectifications", verbose_name=_("building")
    )
    community_code = _community_code()
    rating = models.ForeignKey(
        StarRating, models.SET_NULL, null=True, blank=True, related_name="rectifications"
    )
    issues = models.TextField(_("what to rectify"))
    ordered_on = models.DateField(_("ordered on"))
    deadline = models.DateField(_("deadline"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    objects = querysets.PersonalQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["deadline", "id"]
        constraints = [
            _code_shape("rectification"),
            models.CheckConstraint(
                condition=Q(deadline__gte=F("ordered_on")), name="rectification_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} → {self.deadline}"


@pghistory.track(*_history())
class RentWithdrawal(models.Model):
    """The right to rent out a house withdrawn (取消出租资格) from a day, until restored."""

    building = models.ForeignKey(
        Building, models.DO_NOTHING, related_name="rent_withdrawals", verbose_name=_("building")
    )
    community_code = _community_code()
    reason = models.CharField(_("reason"), max_length=200)
    withdrawn_on = models.DateField(_("withdrawn on"))
    restored_on = models.DateField(_("restored on"), null=True, blank=True)

    objects = querysets.PersonalQuerySet.as_manager()

    class Meta:
        verbose_name = _("withdrawal of the right to rent")
        verbose_name_plural = _("withdrawals of the right to rent")
        ordering = ["-withdrawn_on"]
        constraints = [
            _code_shape("rent_withdrawal"),
            models.UniqueConstraint(
                fields=["building"],
                condition=Q(restored_on__isnull=True),
                name="rent_withdrawal_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.withdrawn_on}"


# ---------------------------------------------------------------------------------------------
# The access log: append-only (a trigger refuses UPDATE and DELETE, the application's database
# role may only INSERT), read by auditors.


class Access(models.TextChoices):
    REVEAL = "reveal", _("reveal")
    SEARCH = "search", _("search by identity number")
    EXPORT = "export", _("export")


class AccessLog(models.Model):
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
    )
    username = models.CharField(_("user"), max_length=150)
    action = models.CharField(_("action"), max_length=8, choices=Access.choices)
    what = models.CharField(_("what"), max_length=200)
    object_id = models.BigIntegerField(null=True)
    community_code = models.CharField(_("community code"), max_length=12, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    reason = models.CharField(_("reason"), max_length=200)
    path = models.CharField(_("path"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        permissions = [("audit", _("Can read the access log (auditor)"))]
        indexes = [models.Index(fields=["user", "at"], name="access_log_user")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.what}"
