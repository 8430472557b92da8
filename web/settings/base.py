"""Settings shared by every environment. Environment modules (demo, test, production) extend it."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

# Overridden by each environment; production refuses this default.
DEFAULT_SECRET_KEY = "plategrid-insecure-default-key-for-demo-and-tests-only"  # noqa: S105
SECRET_KEY = os.environ.get("PLATEGRID_SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Demo accounts (one per role) may only be created and used when this is True.
DEMO_MODE = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "django_tasks",
    "django_tasks_db",
    # Sign-in lockout: failed attempts counted in the database (web.lockout).
    "axes",
    "gis.apps.GeoConfig",
    "registry",
    "grid",
    "layers",
    "data",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signs out idle and too old sessions (web.security).
    "web.security.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the acting user and the URL with every history event.
    "pghistory.middleware.HistoryMiddleware",
    # Turns a locked-out sign-in into the lockout answer (last, as axes requires).
    "axes.middleware.AxesMiddleware",
]
# Only requests that can change the register carry a history context: on reads it would only
# prefix every query with a set_config statement that no history event ever uses.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _local_database() -> Any:
    """The project-local cluster started by ``scripts/db.sh`` (unix socket, no TCP)."""
    socket_file = VAR_DIR / "pgsocket"
    socket_dir = socket_file.read_text().strip() if socket_file.exists() else str(VAR_DIR / "run")
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": "plategrid",
        "USER": "postgres",
        "HOST": socket_dir,
        "PORT": "55432",
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], engine="django.contrib.gis.db.backends.postgis"
        )
    }
else:
    DATABASES = {"default": _local_database()}
DATABASES["default"]["CONN_MAX_AGE"] = 60
# The history and rule triggers (django-pgtrigger) first read the setting pgtrigger.ignore. Unset,
# reading it raises an error that each trigger call catches in a subtransaction, and in a long
# transaction every further row pays more: the demo city's rooms went from 0.4 to 1.2 ms a row.
# An empty list means the same (ignore nothing) without the error.
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = f"{_options.get('options', '')} -c pgtrigger.ignore={{}}".strip()

# Sessions are read from the cache and written through to the database: no session query on
# every API request of a map page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The map's vector tiles (layers.tiles), shared by every process (web server, db_worker):
    # files, no cache server to run. A change made through the services is seen at once (the
    # tile epoch is bumped on commit); one made outside them within TIMEOUT seconds.
    "tiles": {
        "BACKEND": "layers.cache.TileFileCache",
        "LOCATION": str(VAR_DIR / "cache" / "tiles"),
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    },
    # The coverage tiles (layers.coverage.tiles): a folder of their own, as they are made anew
    # every PLATEGRID_COVERAGE_TILE_BUCKET_S seconds and culling them must not evict the map's.
    "coverage_tiles": {
        "BACKEND": "layers.cache.TileFileCache",
        "LOCATION": str(VAR_DIR / "cache" / "coverage_tiles"),
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 5_000},
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Served from the finders (app static folders and node_modules) by WhiteNoise; production
# collects them into STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
# Browser assets come from npm (package.json) and are served by the project itself.
STATICFILES_DIRS = [
    ("vendor/ol", BASE_DIR / "node_modules" / "ol" / "dist"),
    ("vendor/ol-css", BASE_DIR / "node_modules" / "ol"),
    # Leaflet for the standalone HTML maps folium writes (layers/html_map.py).
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["web.api.permissions.TerritoryPermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "web.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "gis.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "plategrid API",
    "DESCRIPTION": "Territory and property register: districts, street offices, communities, "
    "compounds, buildings, door plates, rooms and landlords, as GeoJSON.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}


LOGIN_URL = "login"

# --- Security: sign-in lockout (web/lockout.py), sessions and error reports (web/security.py) ---
# The lockout check runs before the password check.
AUTHENTICATION_BACKENDS = [
    "web.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A user name is refused after this many failed sign-ins, a client address after
# PLATEGRID_LOGIN_IP_FAILURE_LIMIT (higher: a whole office may sign in from one address), each
# for the cool-off time after its last counted failure (failures older than that are forgotten).
AXES_FAILURE_LIMIT = int(os.environ.get("PLATEGRID_LOGIN_FAILURE_LIMIT", "5"))
PLATEGRID_LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("PLATEGRID_LOGIN_IP_FAILURE_LIMIT", "20"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PLATEGRID_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # this order: web.lockout.LockoutHandler
AXES_HANDLER = "web.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "web.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "web.security.client_ip"
# Attempts during a lockout neither count nor extend it: the message's "try again in N minutes"
# holds, and someone hammering a user name cannot keep its owner out for good.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No table of every successful sign-in (axes' AccessLog) kept for ever: plategrid.security logs.
AXES_DISABLE_ACCESS_LOG = True
# Masked in the request data axes keeps with each failed attempt.
AXES_SENSITIVE_PARAMETERS = ["password", "csrfmiddlewaretoken", "id_number", "phone", "reason"]
# Reverse proxies in front of the server (0: none). Behind them the client address is read from
# X-Forwarded-For (web.security.client_ip) and production trusts X-Forwarded-Proto.
PLATEGRID_TRUSTED_PROXIES = int(os.environ.get("PLATEGRID_TRUSTED_PROXIES", "0"))

# A session idle this long is signed out (web.security.IdleSessionMiddleware), and any session
# after PLATEGRID_SESSION_MAX_HOURS; the cookie lasts as long as the idle time.
PLATEGRID_SESSION_IDLE_SECONDS = int(os.environ.get("PLATEGRID_SESSION_IDLE_MINUTES", "30")) * 60
PLATEGRID_SESSION_MAX_SECONDS = int(os.environ.get("PLATEGRID_SESSION_MAX_HOURS", "12")) * 3600
SESSION_COOKIE_AGE = PLATEGRID_SESSION_IDLE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Error reports (500 page, mail to ADMINS) hide parameters and variables holding personal data.
DEFAULT_EXCEPTION_REPORTER_FILTER = "web.security.PersonalDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "web.security.PersonalDataExceptionReporter"

LOGIN_REDIRECT_URL = "map"
LOGOUT_REDIRECT_URL = "index"

# Uploaded files (imports) are kept with their job under var/media: nothing submitted is lost.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
PLATEGRID_IMPORT_MAX_BYTES = int(os.environ.get("PLATEGRID_IMPORT_MAX_MB", "500")) * 2**20
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20

# Background jobs (imports, later partitions, plans and atlases) are rows in PostgreSQL, run by
# ``manage.py db_worker`` (started by ``make run``): no broker to install.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Sweep planning (grid.sweep_jobs): PyVRP's time for splitting a sweep among its teams, and
# fast-tsp's time per team (None: the planner's own choice). Jobs run in the background.
SWEEP_PLAN_TIME_LIMIT_S = float(os.environ.get("PLATEGRID_SWEEP_PLAN_TIME_LIMIT_S", "20"))
SWEEP_ORDER_TIME_S: float | None = None
# Visits (grid.visits) outside a sweep: flagged when recorded farther than this from their
# building, and a room flagged for its responsible person after this many failed visits in a row
# (a sweep's own far_visit_m and revisit_attempts apply to its visits).
VISIT_FAR_M = 150.0
VISIT_REVISIT_ATTEMPTS = 3

# Coordinates: storage in EPSG:4326 (= CGCS2000 at this scale); areas and distances in a metric
# CGCS2000 Gauss-Krüger zone per city. Xiangyang: 3° zone with central meridian 111°E.
STORAGE_SRID = 4326
METRIC_SRID = int(os.environ.get("PLATEGRID_METRIC_SRID", "4546"))
# A child territory may stick out of its parent by this share of its area (digitising slivers).
TERRITORY_SLIVER_TOLERANCE = 0.005
# Responsibility zones (grid.services), m²: the area of a zone allowed outside its community, the
# overlap of two current zones still accepted, the part of a footprint allowed outside the zone
# holding most of it, and the uncovered community area below which the coverage check is silent.
GRID_OUTSIDE_TOLERANCE_M2 = 1.0
GRID_OVERLAP_TOLERANCE_M2 = 1.0
GRID_BUILDING_CUT_TOLERANCE_M2 = 1.0
GRID_UNCOVERED_TOLERANCE_M2 = 1.0
# Staffing: people per household (7th national census, 2020: 2.62), and the seeds' ratios: one
# yard propagandist per N residents, one central household head per N households, N information
# officers per community.
GRID_HOUSEHOLD_SIZE = 2.62
GRID_RESIDENTS_PER_PROPAGANDIST = 3000
GRID_HOUSEHOLDS_PER_CENTRAL_HEAD = 100
GRID_INFORMATION_OFFICERS_PER_COMMUNITY = 2
# The map's optional raster basemap under our own layers: an intranet XYZ tile URL template
# ("http://tianditu.example.internal/vec_w/{z}/{x}/{y}.png"; empty: no raster basemap), the
# coordinate system its tiles are drawn in ("wgs84" — also CGCS2000, Tianditu — or "gcj02": the
# vector tiles are then shifted for display, never in storage), its attribution and top zoom.
PLATEGRID_BASEMAP = {"url": "", "crs": "wgs84", "attribution": "", "max_zoom": 19}
# "Export this view as an HTML map" refuses a box holding more buildings than this.
PLATEGRID_HTML_MAP_MAX_BUILDINGS = int(os.environ.get("PLATEGRID_HTML_MAP_MAX_BUILDINGS", "5000"))
# Coverage maps (layers.coverage): gap cells (hexagons of the gap heatmap) with fewer rooms than
# this are never sent, so that no cell points at a household or two; coverage tiles are cached
# for this many seconds at most (coverage changes with every visit, which bumps no map epoch).
# The people register (registry): the AES-GCM keyring lives outside the database and the
# repository (registry.crypto); a statement touching a personal table outside
# registry.privacy.personal() raises where the guard is on (tests, demo).
PLATEGRID_KEYRING = os.environ.get("PLATEGRID_KEYRING", str(VAR_DIR / "keys" / "registry.json"))
PLATEGRID_PERSONAL_GUARD = False
# Days personal data is kept (registry.retention): residents after their last move-out, history
# of personal records, uploaded exchange files and generated exports.
PLATEGRID_RETENTION = {"resident_days": 3 * 365, "history_days": 3 * 365, "files_days": 90}
PLATEGRID_GAP_MIN_CELL = int(os.environ.get("PLATEGRID_GAP_MIN_CELL", "5"))
PLATEGRID_COVERAGE_TILE_BUCKET_S = 300
# The base URL printed in QR codes on door plates.
PUBLIC_BASE_URL = os.environ.get("PLATEGRID_PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# Map sheets (layers/sheets): the fonts embedded in the PDFs (Debian's fonts-noto-cjk; the
# Simplified Chinese face is picked from the collection by name).
SHEET_FONT = os.environ.get(
    "PLATEGRID_SHEET_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
)
SHEET_FONT_BOLD = os.environ.get(
    "PLATEGRID_SHEET_FONT_BOLD", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
)
# A user's finished packs (PDF and GeoPackage) are deleted after this many days.
SHEET_KEEP_DAYS = int(os.environ.get("PLATEGRID_SHEET_KEEP_DAYS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"plategrid": {"handlers": ["console"], "level": "INFO"}},
}

# Debian 12's GDAL (3.6) cannot block file/network access in spatial-reference strings (gis.W001).
# plategrid never passes a user-supplied WKT/PROJ string to GDAL: only EPSG codes from
# ``gis.crs.ALLOWED_SRIDS`` are accepted, so the warning is acknowledged here.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
# The schema and its docs page describe no data: readable without signing in.
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.AllowAny"]
