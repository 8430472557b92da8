"""Recording a distribution of supplies to a household (物资发放登记), the rows of the supplies
distribution register (``registry.registers.supplies_register``)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError
from gis.services import acting, require_write

from .models import Household, Occupancy, Resident, SupplyDistribution
from .privacy import personal

#: The largest quantity of one line (the column holds 8 digits, 2 after the point).
MAX_QUANTITY = Decimal("999999.99")


def _text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    # NUL cannot be stored in a PostgreSQL text column: it goes, like other control characters.
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value or "")).split())
    if required and not text:
        raise InvalidInputError(
            _("%(name)s is required."), code="required", field=field, name=field
        )
    if len(text) > limit:
        raise InvalidInputError(
            _("%(name)s has at most %(limit)s characters."),
            code="too_long",
            field=field,
            name=field,
            limit=limit,
        )
    return text


def _quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        quantity = Decimal("NaN")
    if (
        not quantity.is_finite()
        or quantity <= 0
        or quantity > MAX_QUANTITY
        or quantity != quantity.quantize(Decimal("0.01"))
    ):
        raise InvalidInputError(
            _(
                "The quantity is a number above 0 and at most 999999.99, with at most two "
                "decimals, not %(value)s."
            ),
            code="bad_quantity",
            field="quantity",
            value=repr(value)[:20],
        )
    return quantity


def _day(value: Any) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(
            _("given_on is a date (YYYY-MM-DD), not %(value)s."),
            code="bad_date",
            field="given_on",
            value=repr(value)[:20],
        ) from None


def record_distribution(
    actor: Any,
    household: Household,
    item: str,
    quantity: Any,
    unit: str,
    given_on: Any,
    received_by: Resident | None = None,
    note: str = "",
) -> SupplyDistribution:
    """Record that ``household`` received ``quantity`` ``unit`` of ``item`` on ``given_on``,
    handed by ``actor`` (a writer of the household's community) to ``received_by`` (a member of
    the household on that day, or nobody named). The day lies between the household's
    registration and its dissolution, and not in the future."""
    require_write(actor, household.community_code)
    item_text = _text(item, field="item", limit=100, required=True)
    unit_text = _text(unit, field="unit", limit=10)
    note_text = _text(note, field="note", limit=200)
    amount = _quantity(quantity)
    day = _day(given_on)
    if day > timezone.localdate():
        raise InvalidInputError(
            _("Supplies cannot be recorded for a day still to come."),
            code="future",
            field="given_on",
        )
    if day < household.created_on or (household.dissolved_on and day >= household.dissolved_on):
        raise InvalidInputError(
            _("The household was not registered on %(day)s."),
            code="household_not_living",
            field="given_on",
            day=day.isoformat(),
        )
    with acting(actor), personal(actor, system=actor is None):
        if received_by is not None:
            member = (
                Occupancy.objects.as_of(day)
                .filter(household=household, resident_id=received_by.pk)
                .exists()
            )
            if not member:
                raise InvalidInputError(
                    _("The person receiving was not a member of the household on %(day)s."),
                    code="not_a_member",
                    field="received_by",
                    day=day.isoformat(),
                )
        return SupplyDistribution.objects.create(
            household=household,
            community_code=household.community_code,
            item=item_text,
            quantity=amount,
            unit=unit_text,
            given_on=day,
            received_by=received_by,
            given_by=actor,
            note=note_text,
        )
