"""``make test``: the same database server; pytest-django creates and drops ``test_plategrid``."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, CACHES, DATABASES

DEBUG = False
DEMO_MODE = True
PLATEGRID_PERSONAL_GUARD = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Separate test databases for runs side by side (e.g. PLATEGRID_TEST_DB=test_plategrid_2).
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("PLATEGRID_TEST_DB", "test_plategrid")}
# Jobs run where they are queued: a test sees the finished job. One test runs the real worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# The registry's keys for the tests (made by tests/conftest.py when missing).
PLATEGRID_KEYRING = os.environ.get(
    "PLATEGRID_KEYRING", str(BASE_DIR / "var" / "test-keys" / "registry.json")
)
# Nothing of the map is kept between tests: the database is rolled back after each test, a
# file cache would not be (with a TIMEOUT of 0 it still kept the epoch and users' remembered
# grants, which a later run's users, with the same ids, would be served). tests/layers turns the
# base settings' file caches on in a folder of each test's own.
CACHES = {
    **CACHES,
    "tiles": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    "coverage_tiles": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
