"""Production: refuses to start with DEBUG, the default secret key or demo mode.

Demo accounts left in the database are refused at start-up by ``web.checks`` (see ``web/wsgi.py``).
``manage.py check --deploy`` is clean with these settings (``tests/web/test_security.py``): HTTPS
only (redirect, HSTS, secure cookies), behind ``PLATEGRID_TRUSTED_PROXIES`` reverse proxies that
terminate TLS and set X-Forwarded-Proto and X-Forwarded-For.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEFAULT_SECRET_KEY, PLATEGRID_TRUSTED_PROXIES

DEBUG = os.environ.get("PLATEGRID_DEBUG", "") not in ("", "0", "false", "False")
DEMO_MODE = False
SECRET_KEY = os.environ.get("PLATEGRID_SECRET_KEY", DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = [h for h in os.environ.get("PLATEGRID_ALLOWED_HOSTS", "").split(",") if h]

if DEBUG:
    raise ImproperlyConfigured(
        "生产环境不能开启 DEBUG / production settings refuse DEBUG: unset PLATEGRID_DEBUG."
    )
# As long as Django's own deploy check wants (security.W009, which also wants 5 different ones).
if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "生产环境必须设置至少 50 个字符的随机密钥 / production settings refuse the default secret "
        "key: set PLATEGRID_SECRET_KEY to a random string of at least 50 characters "
        "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "生产环境必须设置主机名 / set PLATEGRID_ALLOWED_HOSTS (comma-separated host names)."
    )

STATIC_ROOT = BASE_DIR / "var" / "static"  # noqa: F405
WHITENOISE_USE_FINDERS = False

# --- HTTPS only (manage.py check --deploy) ---
SECURE_SSL_REDIRECT = True
# Behind a reverse proxy that terminates TLS, the request is HTTPS when the proxy says so. Only
# then: without a proxy stripping it, a client could send the header itself.
if PLATEGRID_TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("PLATEGRID_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading (security.W021) is not asked for: it is a request to the browsers' built-in list of
# public domains, which an intranet host name is not, and it cannot be taken back quickly.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Forms are posted from the site's own HTTPS origins only.
# (The CSRF cookie stays readable by scripts: web/static/web/common.js sends it as a header.)
CSRF_TRUSTED_ORIGINS = [
    f"https://*{h}" if h.startswith(".") else f"https://{h}" for h in ALLOWED_HOSTS if h != "*"
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
