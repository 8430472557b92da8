"""Idle sessions, the client's address and error reports without personal data.

The sign-in lockout is ``web.lockout`` (it needs the models; this module is imported before
them, by the logging configuration, for its error reporter).

Sessions: :class:`IdleSessionMiddleware` signs out a session idle for
``PLATEGRID_SESSION_IDLE_MINUTES`` or older than ``PLATEGRID_SESSION_MAX_HOURS``.

Error reports (the technical 500 page, ``AdminEmailHandler``): :class:`PersonalDataReporterFilter`
and :class:`PersonalDataExceptionReporter` hide, besides Django's own, every request parameter,
query string item and frame variable whose name contains one of :data:`PERSONAL_NAMES`.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

log = logging.getLogger("plategrid.security")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``PLATEGRID_TRUSTED_PROXIES`` reverse
    proxies the address the outermost of them saw (each proxy appends to X-Forwarded-For, so
    the entry that many places from the right; entries further left are the client's own say)."""
    proxies = settings.PLATEGRID_TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR")
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    return hops[-proxies] if len(hops) >= proxies else remote


# --- idle sessions ---------------------------------------------------------------------------

SEEN_KEY = "plategrid_seen"
STARTED_KEY = "plategrid_started"
# The last-seen time is written at most this often: not a session save on every map tile.
TOUCH_EVERY_S = 60


@receiver(user_logged_in, dispatch_uid="plategrid.security.logged_in")
def _session_started(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[STARTED_KEY] = session[SEEN_KEY] = now


def session_expired(session: Any, now: int) -> bool:
    """True when a signed-in session has been idle or alive for too long."""
    seen, started = session.get(SEEN_KEY), session.get(STARTED_KEY)
    if seen is None or started is None:
        return False
    return (
        now - seen > settings.PLATEGRID_SESSION_IDLE_SECONDS
        or now - started > settings.PLATEGRID_SESSION_MAX_SECONDS
    )


class IdleSessionMiddleware:
    """Signs out a session idle for ``PLATEGRID_SESSION_IDLE_SECONDS`` or signed in for longer
    than ``PLATEGRID_SESSION_MAX_SECONDS``; the request then goes on as anonymous (pages send it
    to the sign-in page, the API refuses it). Requests without a session cookie cost nothing.
    Goes after ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session = request.session
        if SESSION_KEY not in session:
            return
        now = int(time.time())
        if session_expired(session, now):
            log.info("session ended (idle or too old): user id %s", session.get(SESSION_KEY))
            logout(request)
            return
        if session.get(STARTED_KEY) is None:  # signed in before this middleware existed
            session[STARTED_KEY] = now
        if now - session.get(SEEN_KEY, 0) >= TOUCH_EVERY_S:
            session[SEEN_KEY] = now


# --- error reports ---------------------------------------------------------------------------

#: Parts of parameter and variable names whose values never appear in an error report.
PERSONAL_NAMES = ("id_number", "phone", "reason", "password", "clear")
_PERSONAL = re.compile("|".join(PERSONAL_NAMES), re.IGNORECASE)


def is_personal(name: object) -> bool:
    return isinstance(name, str) and bool(_PERSONAL.search(name))


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Django's filter (``sensitive_post_parameters``, ``sensitive_variables``, settings named
    like keys) plus every POST parameter, query string item and frame variable whose name
    contains one of :data:`PERSONAL_NAMES`, with DEBUG on too."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def cleanse_items(self, items: Any) -> Any:
        items = items.copy()
        for key in list(items.keys()):
            if is_personal(key):
                items[key] = self.cleansed_substitute
        return items

    def cleanse_query_string(self, query: str) -> str:
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode(
            [(k, self.cleansed_substitute if is_personal(k) else v) for k, v in pairs], safe="*"
        )

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        return (
            self.cleanse_items(super().get_post_parameters(request)) if request is not None else {}
        )

    def get_cleansed_multivaluedict(self, request: HttpRequest, multivaluedict: Any) -> Any:
        return self.cleanse_items(super().get_cleansed_multivaluedict(request, multivaluedict))

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        if isinstance(meta.get("QUERY_STRING"), str):
            meta["QUERY_STRING"] = self.cleanse_query_string(meta["QUERY_STRING"])
        return meta

    def get_traceback_frame_variables(self, request: HttpRequest, tb_frame: Any) -> Any:
        return [
            (name, self._cleanse_variable(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _cleanse_variable(self, name: str, value: Any) -> Any:
        if is_personal(name):
            return self.cleansed_substitute
        if isinstance(value, HttpRequest):  # its repr carries the query string
            return f"<{type(value).__name__}: {value.method} {value.path!r}>"
        return value


class PersonalDataExceptionReporter(ExceptionReporter):
    """Django's report with the query string's personal items hidden (Django lists GET and the
    URL as they came, outside the filter)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is None:
            return data
        flt = self.filter
        if not isinstance(flt, PersonalDataReporterFilter):
            return data
        data["request_GET_items"] = flt.cleanse_items(self.request.GET).items()
        uri = data.get("request_insecure_uri")
        if isinstance(uri, str):
            parts = urlsplit(uri)
            query = flt.cleanse_query_string(parts.query)
            data["request_insecure_uri"] = urlunsplit(parts._replace(query=query))
        return data
