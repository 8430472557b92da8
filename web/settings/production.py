"""Production: refuses to start with DEBUG, the default secret key or demo mode.

Demo accounts left in the database are refused at start-up by ``web.checks`` (see ``web/wsgi.py``).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEFAULT_SECRET_KEY

DEBUG = os.environ.get("PLATEGRID_DEBUG", "") not in ("", "0", "false", "False")
DEMO_MODE = False
SECRET_KEY = os.environ.get("PLATEGRID_SECRET_KEY", DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = [h for h in os.environ.get("PLATEGRID_ALLOWED_HOSTS", "").split(",") if h]

if DEBUG:
    raise ImproperlyConfigured(
        "生产环境不能开启 DEBUG / production settings refuse DEBUG: unset PLATEGRID_DEBUG."
    )
if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured(
        "生产环境必须设置密钥 / production settings refuse the default secret key: "
        "set PLATEGRID_SECRET_KEY to a random string of at least 32 characters."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "生产环境必须设置主机名 / set PLATEGRID_ALLOWED_HOSTS (comma-separated host names)."
    )

STATIC_ROOT = BASE_DIR / "var" / "static"  # noqa: F405
WHITENOISE_USE_FINDERS = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
