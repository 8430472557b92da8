"""Encryption of personal fields: AES-256-GCM with keys outside the database, HMAC for search.

The keyring is a JSON file named by ``settings.PLATEGRID_KEYRING`` (environment variable
``PLATEGRID_KEYRING``; by default ``var/keys/registry.json``, outside the repository and the
database)::

    {"current": "k20261203", "keys": {"k20261203": "<base64 of 32 bytes>", ...},
     "search_key": "<base64 of 32 bytes>"}

A ciphertext names the key that made it (``k20261203$<base64 nonce ‖ ciphertext ‖ tag>``), so keys
rotate: add a key, make it current, and ``manage.py registry_keys rotate`` re-encrypts every row
still under an older key; the old key can then be dropped. The associated data binds a ciphertext to
its column (``resident.id_number``): a value moved to another column does not decrypt. The search
key makes ``search_hash``, a keyed HMAC-SHA256, so an identity number is found by equality without
storing it in clear; it is not rotated with the encryption keys (that would rehash every row).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12


class KeyringError(RuntimeError):
    """The keyring is missing, unreadable or lacks the key a ciphertext names."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    search_key: bytes

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyringError(f"the keyring has no key {key_id!r}") from None


def keyring_path() -> Path:
    return Path(settings.PLATEGRID_KEYRING)


#: Seconds a keyring is used before its file is looked at again (a stat per decrypted value cost
#: two thirds of a decryption); writing a keyring here forgets it at once.
RECHECK_S = 1.0
_checked: dict[str, tuple[float, Keyring]] = {}
_ciphers: dict[bytes, AESGCM] = {}


def keyring() -> Keyring:
    """The keyring of the settings' file, read again when the file changes."""
    path = keyring_path()
    now = time.monotonic()
    checked = _checked.get(str(path))
    if checked is not None and now - checked[0] < RECHECK_S:
        return checked[1]
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise KeyringError(
            f"no keyring at {path}: run `manage.py registry_keys init` (or set PLATEGRID_KEYRING)"
        ) from None
    ring = _read(str(path), stamp)
    _checked[str(path)] = (now, ring)
    return ring


def _cipher(key: bytes) -> AESGCM:
    cipher = _ciphers.get(key)
    if cipher is None:
        cipher = _ciphers[key] = AESGCM(key)
    return cipher


@lru_cache(maxsize=4)
def _read(path: str, _stamp: int) -> Keyring:
    data = json.loads(Path(path).read_text())
    keys = {key_id: base64.b64decode(value) for key_id, value in data["keys"].items()}
    if data["current"] not in keys or any(len(k) != 32 for k in keys.values()):
        raise KeyringError(f"{path}: the current key must be one of 'keys', each 32 bytes")
    return Keyring(data["current"], keys, base64.b64decode(data["search_key"]))


def new_key_id(today: date | None = None) -> str:
    return f"k{(today or date.today()):%Y%m%d}{secrets.token_hex(2)}"


def write_keyring(path: Path, ring: Keyring) -> None:
    """Write a keyring file readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "current": ring.current,
        "keys": {k: base64.b64encode(v).decode() for k, v in ring.keys.items()},
        "search_key": base64.b64encode(ring.search_key).decode(),
    }
    _checked.clear()
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
    temporary.replace(path)


def ensure_keyring(path: Path) -> bool:
    """Create a keyring at ``path`` unless one is there; ``True`` when it was created. Safe when
    two processes race (the file is linked into place, never replaced)."""
    if path.exists():
        return False
    key_id = new_key_id()
    ring = Keyring(key_id, {key_id: secrets.token_bytes(32)}, secrets.token_bytes(32))
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    write_keyring(temporary, ring)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def add_key(path: Path) -> str:
    """Add a fresh key to the file and make it current; returns its id."""
    ring = keyring()
    key_id = new_key_id()
    write_keyring(
        path, Keyring(key_id, {**ring.keys, key_id: secrets.token_bytes(32)}, ring.search_key)
    )
    return key_id


def encrypt_bytes(data: bytes, *, context: str) -> bytes:
    ring = keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _cipher(ring.key(ring.current)).encrypt(nonce, data, context.encode())
    return ring.current.encode() + b"$" + nonce + sealed


def decrypt_bytes(token: bytes, *, context: str) -> bytes:
    key_id, _, body = token.partition(b"$")
    try:
        return _cipher(keyring().key(key_id.decode())).decrypt(
            body[:NONCE_BYTES], body[NONCE_BYTES:], context.encode()
        )
    except InvalidTag:
        raise KeyringError(f"ciphertext of {context} does not authenticate") from None


def encrypt(text: str, *, context: str) -> str:
    """``key_id$base64``; the empty string stays empty (no value, nothing to hide)."""
    if not text:
        return ""
    key_id, _, body = encrypt_bytes(text.encode(), context=context).partition(b"$")
    return key_id.decode() + "$" + base64.b64encode(body).decode()


def decrypt(token: str, *, context: str) -> str:
    if not token:
        return ""
    key_id, _, body = token.partition("$")
    return decrypt_bytes(key_id.encode() + b"$" + base64.b64decode(body), context=context).decode()


def key_of(token: str) -> str:
    return token.partition("$")[0]


def search_hash(value: str, *, kind: str) -> str:
    """Keyed HMAC-SHA256 (hex) of a normalised value; ``kind`` separates identity numbers from
    phones, so equal strings of two kinds never collide."""
    message = f"{kind}:{value}".encode()
    return hmac.new(keyring().search_key, message, hashlib.sha256).hexdigest()
