"""Shared start-up for benchmarks: Django on the demo settings and database."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    # DEBUG off (no query log), same database as the demo.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings.test")
    import django

    django.setup()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[int(q) - 1]


def figure(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)
