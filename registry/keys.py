"""Key rotation: every ciphertext made under a key other than the current one is decrypted and
encrypted again under the current key, in batches, by the administrator role (which bypasses
row-level security: rotation covers every community). History rows keep their old ciphertexts
until the retention job removes them, so an old key is dropped from the keyring only after its
history has aged out (``rows_per_key`` counts both).

Other apps keep ciphertexts of their own (the department exchange's rows and files): they
register them with :func:`register_ciphertexts` — a function re-encrypting theirs under the
current key, and one counting theirs per key — and rotation and ``status`` cover them too (the
registry imports no app).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.db import connection

from . import crypto
from .models import LandlordContract, Resident, TenancyContract
from .privacy import ADMINISTRATOR, personal
from .services import ID_CONTEXT, PHONE_CONTEXT

BATCH = 2000
#: ``reencrypt(current_key_id) → {what: re-encrypted}`` and ``count() → {key id: ciphertexts}``.
Reencrypter = Callable[[str], dict[str, int]]
Counter_ = Callable[[], dict[str, int]]
_ciphertexts: list[tuple[Reencrypter, Counter_]] = []
_COLUMNS = (("id_number", ID_CONTEXT), ("phone", PHONE_CONTEXT))


def register_ciphertexts(reencrypt_fn: Reencrypter, count_fn: Counter_) -> None:
    """Have rotation re-encrypt another app's ciphertexts and ``rows_per_key`` count them."""
    if (reencrypt_fn, count_fn) not in _ciphertexts:
        _ciphertexts.append((reencrypt_fn, count_fn))


def reencrypt(*, progress: Callable[[str], object] | None = None) -> dict[str, int]:
    current = crypto.keyring().current
    counts: Counter[str] = Counter()
    for column, context in _COLUMNS:
        while True:
            with personal(system=True, role=ADMINISTRATOR):
                rows = list(
                    Resident.objects.exclude(**{column: ""})
                    .exclude(**{f"{column}__startswith": current + "$"})
                    .values_list("pk", column)[:BATCH]
                )
                for pk, token in rows:
                    value = crypto.decrypt(token, context=context)
                    Resident.objects.filter(pk=pk).update(
                        **{column: crypto.encrypt(value, context=context)}
                    )
            counts[column] += len(rows)
            if progress and rows:
                progress(f"{column}: {counts[column]}")
            if len(rows) < BATCH:
                break
    for model in (LandlordContract, TenancyContract):
        with personal(system=True, role=ADMINISTRATOR):
            for contract in model.objects.exclude(scan=""):
                token = contract.scan.read()
                contract.scan.close()
                if token.startswith(current.encode() + b"$"):
                    continue
                context = f"{model._meta.model_name}.scan"
                data = crypto.decrypt_bytes(token, context=context)
                with contract.scan.storage.open(str(contract.scan.name), "wb") as handle:
                    handle.write(crypto.encrypt_bytes(data, context=context))
                counts["scans"] += 1
    for reencrypt_fn, _count_fn in _ciphertexts:
        done = {what: n for what, n in reencrypt_fn(current).items() if n}
        counts.update(done)
        if progress and done:
            progress(", ".join(f"{what}: {n}" for what, n in done.items()))
    return dict(counts)


def rows_per_key() -> dict[str, int]:
    """Ciphertexts per key id, in the register and in its history."""
    counts: Counter[str] = Counter()
    with personal(system=True, role=ADMINISTRATOR), connection.cursor() as cursor:
        for table in ("registry_resident", "registry_residentevent"):
            for column, _context in _COLUMNS:
                cursor.execute(
                    f"SELECT split_part({column}, '$', 1), count(*) FROM {table}"  # noqa: S608
                    f" WHERE {column} <> '' GROUP BY 1"
                )
                counts.update(dict(cursor.fetchall()))
    for _reencrypt_fn, count_fn in _ciphertexts:
        counts.update(count_fn())
    return dict(counts)
