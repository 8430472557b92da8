"""Create (or reset) one demo account per role and print them. Demo settings only."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from web.accounts import DEMO_PASSWORD, create_demo_accounts


class Command(BaseCommand):
    help = "Create one demo account per role (demo settings only) and print them."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = create_demo_accounts()
        self.stdout.write(f"demo accounts (password: {DEMO_PASSWORD}):")
        for a in accounts:
            extra = " ".join(a.permissions)
            self.stdout.write(
                f"  {a.username:<16} {a.role:<18} {a.territory_code} {extra}".rstrip()
            )
