"""Personal data: the user context of a transaction (row-level security), masking, reveal and
the access log.

**Scope twice.** Every read goes through ``visible_to(user)``; and PostgreSQL's row-level security
on the personal tables (migration ``0002``) lets a row through only when its community code starts
with one of the prefixes in the transaction's setting ``plategrid.scope``. :func:`personal` opens a
transaction, sets that setting and the user id with ``set_config(…, true)`` (transaction-local,
never per connection: a pooled connection carries nothing to the next request) and switches to the
role ``plategrid_operator`` with ``SET LOCAL ROLE`` — the login role may be a superuser, and
superusers bypass row-level security. On leaving, the previous role and settings are put back, so
an enclosing transaction (a test's, a job's) goes on as before.

In the test and demo settings (``PLATEGRID_PERSONAL_GUARD``) a statement that touches a personal
table outside :func:`personal` raises :class:`OutsideContext`: a forgotten context is a bug found
by the tests, not a row shown in production (where a non-superuser login role sees no personal
row at all without the setting).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError
from gis.masking import mask_phone
from gis.querysets import territory_prefixes

from .idnumber import mask as mask_id_number

OPERATOR = "plategrid_operator"
AUDITOR = "plategrid_auditor"
ADMINISTRATOR = "plategrid_admin"
#: Scope value meaning "every community" (superusers, system jobs).
EVERYWHERE = "*"

#: The personal tables (and their history) that row-level security covers.
PERSONAL_TABLES = (
    "registry_household",
    "registry_resident",
    "registry_occupancy",
    "registry_followup",
    "registry_supplydistribution",
    "registry_landlordcontract",
    "registry_tenancycontract",
    "registry_starrating",
    "registry_rectification",
    "registry_rentwithdrawal",
)
HISTORY_TABLES = tuple(f"{table}event" for table in PERSONAL_TABLES)
#: The row-level security policy's condition: the row's community code lies under one of the
#: transaction's scope prefixes (6, 9 or 12 digits) or the scope is everything. The scope is read
#: once per query (sub-selects become InitPlans) and compared with ``=``, which is leakproof, so
#: PostgreSQL can use the code's index under the policy; a function called per row cost ~15 µs a
#: row (8 s for a district of the city benchmark).
_SCOPE = "ARRAY(SELECT unnest(string_to_array(current_setting('plategrid.scope', true), ',')))"
POLICY = f"""
    (SELECT coalesce(current_setting('plategrid.scope', true), '') = '*')
    OR community_code::text = ANY ({_SCOPE})
    OR left(community_code::text, 9) = ANY ({_SCOPE})
    OR left(community_code::text, 6) = ANY ({_SCOPE})
"""
_GUARDED = re.compile(r'"registry_(?!followupschedule|starcriterion|accesslog)[a-z]+"')

__all__ = ["mask_id_number", "mask_phone"]


class OutsideContext(RuntimeError):
    """A personal table was read or written outside :func:`personal`."""


@contextmanager
def personal(user: Any = None, *, role: str = OPERATOR, system: bool = False) -> Iterator[None]:
    """Run the block in a transaction whose personal reads and writes are ``user``'s.

    ``system=True`` is for jobs that act for nobody in particular (the retention job, imports
    decided earlier by a person, the demo loader): every community, still as ``role``.
    """
    if system:
        scope, user_id = EVERYWHERE, ""
    else:
        prefixes = territory_prefixes(user)
        scope = EVERYWHERE if prefixes is None else ",".join(prefixes)
        user_id = str(getattr(user, "pk", "") or "")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, current_setting('plategrid.scope', true),"
                " current_setting('plategrid.user_id', true)"
            )
            before = cursor.fetchone()
            _set(cursor, role, scope, user_id)
        depth = getattr(connection, "plategrid_personal", 0)
        connection.plategrid_personal = depth + 1  # type: ignore[attr-defined]
        try:
            yield
        finally:
            connection.plategrid_personal = depth  # type: ignore[attr-defined]
            try:
                with connection.cursor() as cursor:
                    _set(cursor, before[0], before[1] or "", before[2] or "")
            except DatabaseError:
                pass  # the transaction failed: rolling it back undoes the settings anyway


def _set(cursor: Any, role: str, scope: str, user_id: str) -> None:
    cursor.execute(
        "SELECT set_config('plategrid.scope', %s, true), set_config('plategrid.user_id', %s, true)",
        [scope, user_id],
    )
    # A role name cannot be a query parameter; it is one of ours or current_user, quoted.
    cursor.execute("SET LOCAL ROLE " + connection.ops.quote_name(role))


def in_context() -> bool:
    return getattr(connection, "plategrid_personal", 0) > 0


def _guard(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    if (
        _GUARDED.search(sql)
        and not in_context()
        and sql.lstrip()[:6].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH ")
    ):
        raise OutsideContext(
            f"personal table used outside registry.privacy.personal(): {sql[:120]}"
        )
    return execute(sql, params, many, context)


def install_guard(**_kwargs: Any) -> None:
    # First in the list: a connection may open inside a context that pushed a wrapper of its own
    # (pghistory's) and pops the last one on leaving; appended, the guard would be popped instead.
    if settings.PLATEGRID_PERSONAL_GUARD and _guard not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _guard)


def connect_guard() -> None:
    connection_created.connect(install_guard, dispatch_uid="plategrid-personal-guard")


# ---------------------------------------------------------------------------------------------
# Reveal and the access log


def can_reveal(user: Any) -> bool:
    return bool(user and user.has_perm("registry.reveal_resident"))


def printable(text: str | None) -> str:
    """Typed text without control characters (PostgreSQL cannot store a NUL) and with runs of
    whitespace as one space."""
    return " ".join("".join(c if c.isprintable() else " " for c in text or "").split())


def clean_reason(reason: str | None) -> str:
    """A reveal or an export needs a reason a person typed: at least four characters."""
    text = printable(reason)
    if len(text) < 4:
        raise InvalidInputError(
            _("Give the reason for this reveal or export (at least four characters)."),
            code="reason_required",
            field="reason",
        )
    return text[:200]


def log_access(
    user: Any,
    action: str,
    what: str,
    *,
    reason: str,
    object_id: int | None = None,
    community_code: str = "",
    rows: int = 0,
    path: str = "",
) -> None:
    """Write one access-log row (it cannot be changed afterwards, see migration 0002). The log
    has no row-level security: one INSERT, in the caller's transaction, with no user context of
    its own (which cost four more round trips a row)."""
    from .models import AccessLog

    AccessLog.objects.create(
        user_id=getattr(user, "pk", None),
        username=getattr(user, "username", "") or "system",
        action=action,
        what=what[:200],
        object_id=object_id,
        community_code=community_code,
        rows=rows,
        reason=reason[:200],
        path=path[:300],
    )
