"""The monthly star rating of rental houses (出租房屋十二星级管理, Xiangfan's model).

Criteria are data (``StarCriterion``, edited in the admin); the active ones must add up to
twelve stars. A rental house (a building with rooms let whole or shared) is rated once a month:
stars per active criterion, each at most the criterion's stars. The total decides

- a **reward** by the rules (``settings.PLATEGRID_STAR_RULES["rewards"]``: the first rule whose
  minimum the total reaches; by default 12 stars 示范出租屋, 10 or more 优秀出租屋);
- an **order to rectify** when the total is below ``rectify_below`` (8), due
  ``rectify_days`` (30) days after the day of rating, listing the criteria missed.

A month is rated once; a correction (:func:`correct`) changes the rating and the history
(pghistory) keeps the earlier version; the order follows the corrected total. When an order is
overdue, the reviewer may withdraw the right to rent (:func:`withdraw`), until it is restored
(:func:`restore`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import ConflictError, InvalidInputError, NotFoundError
from gis.models import RENTED_USES, Building, Community, Room
from gis.services import acting, require_write
from grid.coverage import node_name, scope_condition

from .contracts import check_node
from .followups import month_end, month_start
from .models import Rectification, RentWithdrawal, StarCriterion, StarRating
from .privacy import personal

TWELVE = 12
DEFAULT_RULES: dict[str, Any] = {
    # (minimum stars, reward), highest first: the first reached is given.
    "rewards": [(12, "示范出租屋"), (10, "优秀出租屋")],
    "rectify_below": 8,
    "rectify_days": 30,
}


def rules() -> dict[str, Any]:
    return DEFAULT_RULES | dict(getattr(settings, "PLATEGRID_STAR_RULES", {}))


def reward_for(stars: int) -> str:
    for minimum, reward in sorted(rules()["rewards"], key=lambda rule: -rule[0]):
        if stars >= minimum:
            return str(reward)
    return ""


# ---------------------------------------------------------------------------------------------
# Input


def active_criteria() -> list[StarCriterion]:
    """The active criteria, in order; refused unless their stars add up to twelve."""
    criteria = list(StarCriterion.objects.filter(active=True).order_by("position", "code"))
    total = sum(c.stars for c in criteria)
    if total != TWELVE:
        raise InvalidInputError(
            _(
                "The active star criteria add up to %(total)s stars, not 12: an administrator "
                "must fix them before rating."
            ),
            code="criteria_total",
            total=total,
        )
    return criteria


def parse_month(value: Any, *, field: str = "month") -> date:
    """``YYYY-MM`` (or a day in it) → the month's first day."""
    text = str(value or "")
    try:
        day = date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        raise InvalidInputError(
            _("%(name)s is a month written YYYY-MM, not %(value)s."),
            code="bad_month",
            field=field,
            name=field,
            value=repr(value)[:30],
        ) from None
    return month_start(day)


def visible_building(actor: Any, building_id: Any) -> Building:
    try:
        pk = int(building_id)
    except (TypeError, ValueError):
        pk = 0
    building = Building.objects.visible_to(actor).select_related("community").filter(pk=pk).first()
    if building is None:
        raise NotFoundError(
            _("No building %(value)s in your territory."),
            field="building",
            value=str(building_id)[:30],
        )
    return building


def _clean_scores(scores: Any) -> tuple[dict[str, int], list[StarCriterion]]:
    criteria = active_criteria()
    if not isinstance(scores, dict):
        raise InvalidInputError(
            _("scores is an object of criterion codes and stars."),
            code="bad_scores",
            field="scores",
        )
    by_code = {c.code: c for c in criteria}
    unknown = sorted(set(scores) - set(by_code))
    if unknown:
        raise InvalidInputError(
            _("%(value)s is not an active star criterion."),
            code="unknown_criterion",
            field="scores",
            value=", ".join(str(u) for u in unknown)[:100],
        )
    missing = [c.name for c in criteria if c.code not in scores]
    if missing:
        raise InvalidInputError(
            _("Score every active criterion: %(value)s missing."),
            code="missing_criterion",
            field="scores",
            value="、".join(missing)[:200],
        )
    clean: dict[str, int] = {}
    for criterion in criteria:
        given = scores[criterion.code]
        if isinstance(given, int) and not isinstance(given, bool):
            stars = given
        elif isinstance(given, str) and given.isascii() and given.isdigit():
            stars = int(given)
        else:
            stars = -1
        if not 0 <= stars <= criterion.stars:
            raise InvalidInputError(
                _("%(criterion)s gives 0 to %(max)s stars, not %(value)s."),
                code="stars_range",
                field="scores",
                criterion=criterion.name,
                max=criterion.stars,
                value=str(scores[criterion.code])[:20],
            )
        clean[criterion.code] = stars
    return clean, criteria


def _check_house(building: Building) -> None:
    if not Room.objects.filter(building=building, use__in=RENTED_USES).exists():
        raise InvalidInputError(
            _("Building %(value)s has no rented room: only rental houses are rated."),
            code="not_rental",
            field="building",
            value=building.name or building.pk,
        )


def _issues(scores: dict[str, int], criteria: list[StarCriterion]) -> str:
    """The criteria missed, one a line: ``消防安全 1/2``."""
    return "\n".join(
        f"{c.name} {scores.get(c.code, 0)}/{c.stars}"
        for c in criteria
        if scores.get(c.code, 0) < c.stars
    )


def _today(on: date | None) -> date:
    return on or timezone.localdate()


# ---------------------------------------------------------------------------------------------
# Writes


def rate(
    actor: Any, building: Building, month: date, scores: Any, *, on: date | None = None
) -> StarRating:
    """Rate a rental house for ``month`` on the day ``on`` (today): once per month."""
    code = building.community.code
    require_write(actor, code)
    month = month_start(month)
    day = _today(on)
    if month > month_start(day):
        raise InvalidInputError(
            _("%(value)s is a month still to come: rate a month under way or past."),
            code="future_month",
            field="month",
            value=f"{month:%Y-%m}",
        )
    _check_house(building)
    clean, criteria = _clean_scores(scores)
    with acting(actor), personal(actor, system=actor is None):
        if StarRating.objects.filter(building=building, month=month).exists():
            raise _already_rated(building, month)
        stars = sum(clean.values())
        try:
            with transaction.atomic():
                rating = StarRating.objects.create(
                    building=building,
                    community_code=code,
                    month=month,
                    scores=clean,
                    stars=stars,
                    reward=reward_for(stars),
                    rated_by=actor,
                )
        except IntegrityError:  # rated at the same moment by someone else
            raise _already_rated(building, month) from None
        _order(rating, clean, criteria, day)
    return rating


def _already_rated(building: Building, month: date) -> ConflictError:
    return ConflictError(
        _("Building %(value)s is already rated for %(month)s: correct that rating."),
        code="already_rated",
        field="month",
        value=building.name or building.pk,
        month=f"{month:%Y-%m}",
    )


def correct(actor: Any, rating: StarRating, scores: Any, *, on: date | None = None) -> StarRating:
    """Correct a month's rating (the history keeps the earlier scores); an open order from it
    follows: updated while the total stays below the threshold, dropped when it no longer is;
    one is made when the corrected total falls below."""
    require_write(actor, rating.community_code)
    clean, criteria = _clean_scores(scores)
    stars = sum(clean.values())
    with acting(actor), personal(actor, system=actor is None):
        rating.scores = clean
        rating.stars = stars
        rating.reward = reward_for(stars)
        rating.rated_by = actor
        rating.save()
        _order(rating, clean, criteria, _today(on))
    return rating


def _order(
    rating: StarRating, scores: dict[str, int], criteria: list[StarCriterion], day: date
) -> None:
    threshold = int(rules()["rectify_below"])
    existing = rating.rectifications.filter(done_on__isnull=True).first()
    if rating.stars >= threshold:
        if existing is not None:
            existing.delete()  # the order came from a wrong rating; its history stays
        return
    issues = _issues(scores, criteria)
    if existing is not None:
        existing.issues = issues
        existing.save(update_fields=["issues"])
        return
    if rating.rectifications.exists():
        return  # already rectified once for this month
    Rectification.objects.create(
        building_id=rating.building_id,
        community_code=rating.community_code,
        rating=rating,
        issues=issues,
        ordered_on=day,
        deadline=day + timedelta(days=int(rules()["rectify_days"])),
    )


def close_rectification(
    actor: Any, order: Rectification, *, done_on: date | None = None
) -> Rectification:
    """The house was rectified on ``done_on`` (today)."""
    require_write(actor, order.community_code)
    day = _today(done_on)
    if order.done_on is not None:
        raise ConflictError(
            _("This order was closed on %(value)s already."),
            code="closed",
            value=order.done_on.isoformat(),
        )
    if day < order.ordered_on or day > timezone.localdate():
        raise InvalidInputError(
            _("done_on lies between the order (%(ordered_on)s) and today."),
            code="done_on",
            field="done_on",
            ordered_on=order.ordered_on.isoformat(),
        )
    with acting(actor), personal(actor, system=actor is None):
        order.done_on = day
        order.save(update_fields=["done_on"])
    return order


def withdraw(
    actor: Any, building: Building, reason: str, *, on: date | None = None
) -> RentWithdrawal:
    """Withdraw the right to rent out ``building`` from ``on`` (today): the reviewer's decision,
    possible only while an order to rectify it is overdue."""
    code = building.community.code
    require_write(actor, code)
    day = _today(on)
    if day > timezone.localdate():
        raise InvalidInputError(
            _("%(name)s cannot be a day still to come (%(value)s)."),
            code="future",
            field="on",
            name="on",
            value=day.isoformat(),
        )
    why = " ".join((reason or "").split())
    if len(why) < 4:
        raise InvalidInputError(
            _("Give the reason for the withdrawal (at least four characters)."),
            code="reason_required",
            field="reason",
        )
    with acting(actor), personal(actor, system=actor is None):
        overdue = Rectification.objects.filter(
            building=building, done_on__isnull=True, deadline__lt=day, ordered_on__lte=day
        )
        if not overdue.exists():
            raise InvalidInputError(
                _(
                    "The right to rent is withdrawn only when an order to rectify is overdue: "
                    "building %(value)s has none."
                ),
                code="no_overdue_order",
                field="building",
                value=building.name or building.pk,
            )
        already = ConflictError(
            _("The right to rent of building %(value)s is withdrawn already."),
            code="withdrawn",
            field="building",
            value=building.name or building.pk,
        )
        if RentWithdrawal.objects.filter(building=building, restored_on__isnull=True).exists():
            raise already
        try:
            with transaction.atomic():
                return RentWithdrawal.objects.create(
                    building=building, community_code=code, reason=why[:200], withdrawn_on=day
                )
        except IntegrityError:  # withdrawn at the same moment by someone else
            raise already from None


def restore(actor: Any, withdrawal: RentWithdrawal, *, on: date | None = None) -> RentWithdrawal:
    """Give the right to rent back from ``on`` (today)."""
    require_write(actor, withdrawal.community_code)
    day = _today(on)
    if withdrawal.restored_on is not None:
        raise ConflictError(
            _("This right to rent was restored on %(value)s already."),
            code="restored",
            value=withdrawal.restored_on.isoformat(),
        )
    if day < withdrawal.withdrawn_on or day > timezone.localdate():
        raise InvalidInputError(
            _("The day of restoring lies between the withdrawal (%(withdrawn_on)s) and today."),
            code="restored_on",
            field="on",
            withdrawn_on=withdrawal.withdrawn_on.isoformat(),
        )
    with acting(actor), personal(actor, system=actor is None):
        withdrawal.restored_on = day
        withdrawal.save(update_fields=["restored_on"])
    return withdrawal


# ---------------------------------------------------------------------------------------------
# Reads


def history(rating: StarRating) -> list[dict[str, Any]]:
    """Every version of a rating, oldest first (call inside ``personal``)."""
    events = list(rating.events.order_by("pgh_created_at", "pgh_id"))  # type: ignore[attr-defined]
    users = dict(
        get_user_model()
        ._default_manager.filter(pk__in={e.rated_by_id for e in events if e.rated_by_id})
        .values_list("pk", "username")
    )
    return [
        {
            "event": e.pgh_label,
            "at": e.pgh_created_at.isoformat(),
            "scores": e.scores,
            "stars": e.stars,
            "reward": e.reward,
            "rated_by": users.get(e.rated_by_id, ""),
        }
        for e in events
    ]


@dataclass
class SummaryRow:
    code: str
    name: str
    houses: int = 0  # buildings with rented rooms
    rated: int = 0
    average_stars: float | None = None
    rewards: dict[str, int] = field(default_factory=dict)
    below_threshold: int = 0
    orders_open: int = 0
    orders_overdue: int = 0
    withdrawn: int = 0

    def as_body(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Summary:
    code: str
    name: str
    month: date
    day: date
    total: SummaryRow
    communities: list[SummaryRow]

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "month": f"{self.month:%Y-%m}",
            "as_of": self.day.isoformat(),
            **{k: v for k, v in self.total.as_body().items() if k not in ("code", "name")},
            "communities": [row.as_body() for row in self.communities],
        }


def summary(user: Any, code: str, month: date) -> Summary:
    """The month's figures per community of ``code`` in the user's scope: rental houses, rated,
    average stars, rewards given, ratings below the threshold; orders open and overdue, and
    rights withdrawn, at the month's end (today for the month under way)."""
    check_node(code)
    month = month_start(month)
    day = min(month_end(month), timezone.localdate())
    names = dict(
        Community.objects.filter(
            scope_condition(user, code, column="code"), code__startswith=code
        ).values_list("code", "name")
    )
    if not names:
        raise NotFoundError(_("No territory %(value)s in your scope."), value=code)
    rows = {c: SummaryRow(c, n) for c, n in sorted(names.items())}
    threshold = int(rules()["rectify_below"])
    houses = (
        Building.objects.filter(community__code__in=list(names))
        .filter(Exists(Room.objects.filter(building=OuterRef("pk"), use__in=RENTED_USES)))
        .values_list("community__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for c, n in houses:
        rows[c].houses = n
    stars_of: dict[str, int] = {}
    with personal(user):
        ratings = StarRating.objects.visible_to(user).filter(
            community_code__in=list(names), month=month
        )
        for r in (
            ratings.values("community_code")
            .annotate(
                n=Count("pk"),
                stars_sum=Sum("stars"),
                low=Count("pk", filter=Q(stars__lt=threshold)),
            )
            .order_by()
        ):
            row = rows[r["community_code"]]
            row.rated, row.below_threshold = r["n"], r["low"]
            stars_of[row.code] = int(r["stars_sum"] or 0)
            row.average_stars = round(stars_of[row.code] / row.rated, 2) if row.rated else None
        for c, reward, n in (
            ratings.exclude(reward="")
            .values_list("community_code", "reward")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            rows[c].rewards[reward] = n
        open_orders = Rectification.objects.visible_to(user).filter(
            Q(done_on__isnull=True) | Q(done_on__gt=day),
            community_code__in=list(names),
            ordered_on__lte=day,
        )
        for order_row in (
            open_orders.values("community_code")
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(deadline__lt=day)))
            .order_by()
        ):
            row = rows[order_row["community_code"]]
            row.orders_open, row.orders_overdue = order_row["n"], order_row["late"]
        for c, n in (
            RentWithdrawal.objects.visible_to(user)
            .filter(
                Q(restored_on__isnull=True) | Q(restored_on__gt=day),
                community_code__in=list(names),
                withdrawn_on__lte=day,
            )
            .values_list("community_code")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            rows[c].withdrawn = n
    total = SummaryRow(code, node_name(code))
    for row in rows.values():
        for key in ("houses", "rated", "below_threshold", "orders_open", "orders_overdue"):
            setattr(total, key, getattr(total, key) + getattr(row, key))
        total.withdrawn += row.withdrawn
        for reward, n in row.rewards.items():
            total.rewards[reward] = total.rewards.get(reward, 0) + n
    total.average_stars = round(sum(stars_of.values()) / total.rated, 2) if total.rated else None
    return Summary(code, total.name, month, day, total, list(rows.values()))
