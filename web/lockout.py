"""Sign-in lockout (django-axes, configured in ``web.settings.base``).

Failed sign-ins are counted in the database (axes' ``AccessAttempt``, shared by every server
process) per user name and per client address (``web.security.client_ip``). A user name is
refused after ``PLATEGRID_LOGIN_FAILURE_LIMIT`` failures, a client address after
``PLATEGRID_LOGIN_IP_FAILURE_LIMIT`` (higher: a street office signs in from behind one address),
both for ``PLATEGRID_LOGIN_COOLOFF_MINUTES`` after the last counted failure. The sign-in page
then shows a message in both languages (HTTP 429); the API's basic authentication answers 429
with the API's error body. Failures and refusals are logged to ``plategrid.security``.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.dispatch import receiver
from django.forms.utils import ErrorList
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from gis.exceptions import PlategridError
from web.security import client_ip

log = logging.getLogger("plategrid.security")


class LoginLockedError(PlategridError):
    """Too many failed sign-ins for a user name or from a client address (429)."""

    default_code = "login_locked"


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


class LockoutBackend(AxesStandaloneBackend):
    """axes' check before the password backends: a locked-out user name or address is refused.

    ``authenticate`` without a request (the test client's ``login``, code in a shell) is not
    refused and not counted: no sign-in from the web comes without one (the login form and the
    API's basic authentication both pass theirs)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for the client address.

    axes compares the largest of the per-parameter failure counts (``AXES_LOCKOUT_PARAMETERS``
    = user name, address) with one limit, ``AXES_FAILURE_LIMIT``. The address's count is scaled
    here so that it reaches that limit exactly when it reaches
    ``PLATEGRID_LOGIN_IP_FAILURE_LIMIT``: floor(n·L/M) ≥ L ⇔ n ≥ M."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        by_user, by_ip = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit, ip_limit = settings.AXES_FAILURE_LIMIT, settings.PLATEGRID_LOGIN_IP_FAILURE_LIMIT
        return max(by_user, by_ip * limit // ip_limit)


class _LockedOutForm(AuthenticationForm):
    """The sign-in form, empty, carrying the lockout message as its error."""

    def __init__(self, request: HttpRequest, messages: list[str], username: str) -> None:
        super().__init__(request, initial={"username": username})
        self._lockout_messages = messages

    def non_field_errors(self) -> ErrorList:
        return ErrorList(self._lockout_messages, error_class="nonfield")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """axes' ``AXES_LOCKOUT_CALLABLE``: 429, as the API's error body for the API (and any request
    with credentials in its headers), else the sign-in page with the message in both languages."""
    minutes = lockout_minutes()
    error = LoginLockedError(
        _(
            "Too many failed sign-ins for this user name or from this computer: try again in "
            "%(minutes)s minutes."
        ),
        minutes=minutes,
    )
    body = error.as_body()
    retry = {"Retry-After": str(minutes * 60)}
    if request.path_info.startswith("/api/") or "HTTP_AUTHORIZATION" in request.META:
        return JsonResponse(body, status=429, headers=retry)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = _LockedOutForm(request, [body["detail_zh"], body["detail_en"]], username)
    context = {"form": form, "next": request.POST.get("next", request.GET.get("next", ""))}
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = retry["Retry-After"]
    return response


def _address(request: Any) -> str:
    return (getattr(request, "axes_ip_address", None) or client_ip(request)) or "-"


@receiver(user_login_failed, dispatch_uid="plategrid.security.login_failed")
def _log_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if request is None:
        return
    log.warning(
        "sign-in failed: user %r from %s at %s",
        credentials.get("username"),
        _address(request),
        request.path_info,
    )


@receiver(user_locked_out, dispatch_uid="plategrid.security.locked_out")
def _locked_out(sender: Any, request: Any, username: str | None, **kwargs: Any) -> None:
    """Logs the refusal, and flags the request that the middleware sees: behind DRF's basic
    authentication axes flags DRF's request, which wraps it (``_request``)."""
    log.warning(
        "sign-in refused, locked out for %s min: user %r from %s at %s",
        lockout_minutes(),
        username,
        _address(request),
        request.path_info,
    )
    inner = getattr(request, "_request", request)
    inner.axes_locked_out = True
    inner.axes_credentials = getattr(request, "axes_credentials", None)
