"""``make run``: the demo city on the local cluster, with one demo account per role."""

from __future__ import annotations

from .base import *  # noqa: F403

DEBUG = True
DEMO_MODE = True
PLATEGRID_PERSONAL_GUARD = True
