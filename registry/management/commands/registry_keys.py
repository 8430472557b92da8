"""The registry's encryption keys: ``init`` (create the keyring when missing), ``status`` (rows
per key), ``rotate`` (a new current key; every ciphertext under an older key re-encrypted)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry import crypto, keys


class Command(BaseCommand):
    help = "Create, inspect or rotate the keys that encrypt identity numbers, phones and scans."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["init", "status", "rotate"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        path = crypto.keyring_path()
        if action == "init":
            created = crypto.ensure_keyring(path)
            self.stdout.write(f"keyring {'created' if created else 'already there'}: {path}")
            return
        if action == "rotate":
            key_id = crypto.add_key(path)
            self.stdout.write(f"new current key {key_id}; re-encrypting…")
            counts = keys.reencrypt(progress=self.stdout.write)
            self.stdout.write(f"re-encrypted: {counts}")
        for key_id, count in sorted(keys.rows_per_key().items()):
            current = " (current)" if key_id == crypto.keyring().current else ""
            self.stdout.write(f"{key_id}{current}: {count}")
