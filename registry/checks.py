"""Deployment checks of the registry's keyring (``manage.py check --deploy``)."""

from __future__ import annotations

import stat
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from . import crypto


@register(Tags.security, deploy=True)
def keyring_is_private(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    path = crypto.keyring_path()
    if not path.exists():
        return [
            Error(
                f"no registry keyring at {path}",
                hint="run `manage.py registry_keys init` or set PLATEGRID_KEYRING",
                id="registry.E001",
            )
        ]
    errors = []
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        errors.append(
            Error(
                f"the registry keyring {path} is readable by others",
                hint=f"chmod 600 {path}",
                id="registry.E002",
            )
        )
    if path.resolve().is_relative_to(settings.BASE_DIR) and not path.resolve().is_relative_to(
        settings.BASE_DIR / "var"
    ):
        errors.append(
            Error(
                f"the registry keyring {path} lies in the source tree",
                hint="keep it outside the repository (var/ or a secrets mount)",
                id="registry.E003",
            )
        )
    try:
        crypto.keyring()
    except (crypto.KeyringError, ValueError, KeyError) as exc:
        errors.append(Error(f"the registry keyring cannot be read: {exc}", id="registry.E004"))
    return errors
