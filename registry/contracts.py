"""Landlords' responsibility contracts and tenancy contracts, their scanned copies, and the
contract rate of a territory (房屋租赁责任书签订率).

A contract is valid on a day from its signing to its expiry, both included (``valid_on``); an
open-ended one has no expiry. Ending a contract sets its expiry to the day it ends.

**Scans.** A scanned copy is a PDF, JPEG or PNG of at most 10 MB, recognised by its first bytes
(never by its name or the type the browser claims). It is stored AES-GCM encrypted
(``crypto.encrypt_bytes``, associated data ``<model>.scan``, so a landlord contract's scan file
does not decrypt as a tenancy contract's) under a random name: the uploaded name, which may carry
a person's name, is not kept. It is served decrypted only through :func:`scan_file`, scoped and
written to the access log as an export with the reason given.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError, NotFoundError
from gis.models import RENTED_USES, Community, Landlord, Room
from gis.services import acting, check_landlord, require_write
from grid.coverage import node_name, scope_condition

from . import crypto
from .models import Access, LandlordContract, Resident, TenancyContract
from .privacy import clean_reason, log_access, personal

MAX_SCAN_BYTES = 10 * 1024 * 1024
#: First bytes → media type, file extension.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
EXTENSIONS = {media: ext for _magic, media, ext in SIGNATURES}

Contract = LandlordContract | TenancyContract


# ---------------------------------------------------------------------------------------------
# Scans


def scan_context(model: type[Contract] | Contract) -> str:
    return f"{model._meta.model_name}.scan"


def check_scan(upload: Any) -> tuple[bytes, str]:
    """The bytes and media type of an uploaded scan, or a clear error (too large, not a PDF,
    JPEG or PNG)."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_SCAN_BYTES:
        raise _too_large()
    data = upload.read(MAX_SCAN_BYTES + 1)
    if len(data) > MAX_SCAN_BYTES:
        raise _too_large()
    for magic, media, _ext in SIGNATURES:
        if data.startswith(magic):
            return data, media
    raise InvalidInputError(
        _("A scanned copy is a PDF, JPEG or PNG file: this file is none of them."),
        code="scan_type",
        field="scan",
    )


def _too_large() -> InvalidInputError:
    return InvalidInputError(
        _("A scanned copy is at most %(max)s MB: this file is larger."),
        code="scan_too_large",
        field="scan",
        max=MAX_SCAN_BYTES // (1024 * 1024),
    )


def _store_scan(contract: Contract, upload: Any) -> str:
    """Encrypt the upload into the contract's ``scan`` (not saved yet); returns the old file's
    name to delete once the contract is saved."""
    data, media = check_scan(upload)
    old = (contract.scan.name or "") if contract.scan else ""
    sealed = crypto.encrypt_bytes(data, context=scan_context(contract))
    contract.scan.save(f"{secrets.token_hex(16)}.bin", ContentFile(sealed), save=False)
    contract.scan_type = media
    return old


def _drop_file(contract: Contract, name: str) -> None:
    if name:
        contract.scan.storage.delete(name)


def scan_file(
    actor: Any, model: type[Contract], pk: int, *, reason: str, path: str = ""
) -> tuple[bytes, str, str]:
    """The decrypted scan of a contract in the actor's scope: bytes, media type, file name.
    Logged as an export with the reason; outside the scope or without a scan: not found."""
    why = clean_reason(reason)
    with personal(actor):
        contract = model.objects.visible_to(actor).filter(pk=pk).first()
    if contract is None:
        raise NotFoundError(_("No such contract in your territory."), code="not_found")
    if not contract.scan:
        raise NotFoundError(_("This contract has no scanned copy."), code="no_scan")
    with contract.scan.open("rb") as handle:
        sealed = handle.read()
    data = crypto.decrypt_bytes(sealed, context=scan_context(model))
    log_access(
        actor,
        Access.EXPORT,
        f"{model._meta.model_name} {contract.pk} scan",
        reason=why,
        object_id=contract.pk,
        community_code=contract.community_code,
        rows=1,
        path=path,
    )
    name = f"{model._meta.model_name}-{contract.pk}.{EXTENSIONS.get(contract.scan_type, 'bin')}"
    return data, contract.scan_type or "application/octet-stream", name


# ---------------------------------------------------------------------------------------------
# Writes


def _check_dates(signed_on: date, expires_on: date | None) -> None:
    if signed_on > timezone.localdate():
        raise InvalidInputError(
            _("A contract cannot be signed on a day still to come."),
            code="future",
            field="signed_on",
        )
    if expires_on is not None and expires_on <= signed_on:
        raise InvalidInputError(
            _("A contract expires after the day it was signed (%(signed_on)s)."),
            code="expires_before_signing",
            field="expires_on",
            signed_on=signed_on.isoformat(),
        )


def visible_landlord(actor: Any, landlord_id: Any) -> Landlord:
    landlord = (
        Landlord.objects.visible_to(actor)
        .select_related("community")
        .filter(pk=_int(landlord_id, "landlord"))
        .first()
    )
    if landlord is None:
        raise NotFoundError(
            _("No landlord %(value)s in your territory."), field="landlord", value=landlord_id
        )
    return landlord


def visible_room(actor: Any, room_id: Any) -> Room:
    room = (
        Room.objects.visible_to(actor)
        .select_related("building__community", "landlord")
        .filter(pk=_int(room_id, "room"))
        .first()
    )
    if room is None:
        raise NotFoundError(_("No room %(value)s in your territory."), field="room", value=room_id)
    return room


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            _("%(name)s is a number (an id), not %(value)s."),
            code="bad_id",
            field=name,
            name=name,
            value=repr(value)[:30],
        ) from None


def create_landlord_contract(
    actor: Any,
    landlord: Landlord,
    *,
    signed_on: date,
    expires_on: date | None = None,
    scan: Any = None,
) -> LandlordContract:
    """The landlord's responsibility contract with their community (治安责任书)."""
    code = landlord.community.code
    require_write(actor, code)
    _check_dates(signed_on, expires_on)
    contract = LandlordContract(
        landlord=landlord, community_code=code, signed_on=signed_on, expires_on=expires_on
    )
    with acting(actor), personal(actor, system=actor is None):
        if scan is not None:
            _store_scan(contract, scan)
        contract.save()
    return contract


def create_tenancy_contract(
    actor: Any,
    room: Room,
    tenant: Resident,
    *,
    signed_on: date,
    expires_on: date | None = None,
    landlord: Landlord | None = None,
    scan: Any = None,
) -> TenancyContract:
    """A landlord lets a rented room to a tenant on the register (租赁合同); the landlord is the
    room's unless another of its community is given."""
    code = room.building.community.code
    require_write(actor, code)
    if room.use not in RENTED_USES:
        raise InvalidInputError(
            _("A tenancy contract is for a rented room: room %(value)s is not let out."),
            code="room_not_rented",
            field="room",
            value=room.number,
        )
    if tenant.community_code != code:
        # The contract stays with the room's community; a tenant on file elsewhere would be
        # hidden from it (row-level security) — register the tenant in this room first.
        raise InvalidInputError(
            _(
                "The tenant's file belongs to another community (%(value)s): register the "
                "tenant in this room first."
            ),
            code="tenant_elsewhere",
            field="tenant",
            value=tenant.community_code,
        )
    landlord = landlord or room.landlord
    if landlord is not None:
        check_landlord(landlord, room.building.community_id)
    _check_dates(signed_on, expires_on)
    contract = TenancyContract(
        room=room,
        tenant=tenant,
        landlord=landlord,
        community_code=code,
        signed_on=signed_on,
        expires_on=expires_on,
    )
    with acting(actor), personal(actor, system=actor is None):
        if scan is not None:
            _store_scan(contract, scan)
        contract.save()
    return contract


def visible_tenant(actor: Any, tenant_id: Any) -> Resident:
    with personal(actor):
        tenant = Resident.objects.visible_to(actor).filter(pk=_int(tenant_id, "tenant")).first()
    if tenant is None:
        raise NotFoundError(
            _("No resident %(value)s in your territory."), field="tenant", value=tenant_id
        )
    return tenant


_UNSET: Any = object()


def update_contract(
    actor: Any,
    contract: Contract,
    *,
    signed_on: date = _UNSET,
    expires_on: date | None = _UNSET,
    scan: Any = None,
) -> Contract:
    """Correct a contract's dates and/or replace its scan (the old file is deleted; the history
    keeps the old dates)."""
    require_write(actor, contract.community_code)
    if signed_on is not _UNSET:
        contract.signed_on = signed_on
    if expires_on is not _UNSET:
        contract.expires_on = expires_on
    _check_dates(contract.signed_on, contract.expires_on)
    old = ""
    with acting(actor), personal(actor, system=actor is None):
        if scan is not None:
            old = _store_scan(contract, scan)
        contract.save()
    _drop_file(contract, old)
    return contract


def end_contract(actor: Any, contract: Contract, *, on: date) -> Contract:
    """The contract ends on ``on`` (its last valid day), not later than it would have."""
    require_write(actor, contract.community_code)
    if on <= contract.signed_on:
        raise InvalidInputError(
            _("A contract ends after the day it was signed (%(signed_on)s)."),
            code="expires_before_signing",
            field="end_on",
            signed_on=contract.signed_on.isoformat(),
        )
    if contract.expires_on is not None and on > contract.expires_on:
        raise InvalidInputError(
            _("The contract already expires on %(expires_on)s: it cannot end later."),
            code="ends_after_expiry",
            field="end_on",
            expires_on=contract.expires_on.isoformat(),
        )
    contract.expires_on = on
    with acting(actor), personal(actor, system=actor is None):
        contract.save(update_fields=["expires_on"])
    return contract


# ---------------------------------------------------------------------------------------------
# The contract rate


@dataclass
class RateRow:
    code: str
    name: str
    landlords: int = 0
    landlords_signed: int = 0
    rented_rooms: int = 0
    rooms_with_contract: int = 0

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "landlords": self.landlords,
            "landlords_signed": self.landlords_signed,
            "landlord_rate": self.share(self.landlords_signed, self.landlords),
            "rented_rooms": self.rented_rooms,
            "rooms_with_contract": self.rooms_with_contract,
            "tenancy_rate": self.share(self.rooms_with_contract, self.rented_rooms),
        }


@dataclass
class ContractRate:
    code: str
    name: str
    on: date
    total: RateRow
    communities: list[RateRow] = field(default_factory=list)

    def as_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "on": self.on.isoformat(),
            **{k: v for k, v in self.total.as_body().items() if k not in ("code", "name")},
            "communities": [row.as_body() for row in self.communities],
        }


def check_node(code: Any) -> str:
    """A district, street office or community code (6, 9 or 12 digits)."""
    if not (
        isinstance(code, str) and code.isascii() and code.isdigit() and len(code) in (6, 9, 12)
    ):
        raise InvalidInputError(
            _("%(value)s is not a district, street office or community code."),
            code="bad_code",
            field="code",
            value=repr(code)[:30],
        )
    return code


def contract_rate(user: Any, code: str, *, on: date | None = None) -> ContractRate:
    """Per community of ``code`` in the user's scope: landlords of rented rooms (rooms let whole
    or shared) with a responsibility contract valid on ``on`` (today) among all such landlords;
    rented rooms with a valid tenancy contract among all rented rooms."""
    check_node(code)
    day = on or timezone.localdate()
    communities = Community.objects.filter(
        scope_condition(user, code, column="code"), code__startswith=code
    )
    names = dict(communities.values_list("code", "name"))
    if not names:
        raise NotFoundError(_("No territory %(value)s in your scope."), value=code)
    rows = {c: RateRow(c, n) for c, n in sorted(names.items())}
    with personal(user):
        signed = LandlordContract.objects.valid_on(day).filter(landlord=OuterRef("pk"))
        landlords = (
            Landlord.objects.filter(community__code__in=list(names))
            .filter(Exists(Room.objects.filter(landlord=OuterRef("pk"), use__in=RENTED_USES)))
            .annotate(signed=Exists(signed))
            .values("community__code")
            .annotate(n=Count("pk"), n_signed=Count("pk", filter=Q(signed=True)))
            .order_by()
        )
        for r in landlords:
            rows[r["community__code"]].landlords = r["n"]
            rows[r["community__code"]].landlords_signed = r["n_signed"]
        let = TenancyContract.objects.valid_on(day).filter(room=OuterRef("pk"))
        rooms = (
            Room.objects.filter(building__community__code__in=list(names), use__in=RENTED_USES)
            .annotate(let=Exists(let))
            .values("building__community__code")
            .annotate(n=Count("pk"), n_let=Count("pk", filter=Q(let=True)))
            .order_by()
        )
        for room_row in rooms:
            row = rows[room_row["building__community__code"]]
            row.rented_rooms, row.rooms_with_contract = room_row["n"], room_row["n_let"]
    total = RateRow(code, node_name(code))
    for row in rows.values():
        total.landlords += row.landlords
        total.landlords_signed += row.landlords_signed
        total.rented_rooms += row.rented_rooms
        total.rooms_with_contract += row.rooms_with_contract
    return ContractRate(code, total.name, day, total, list(rows.values()))
