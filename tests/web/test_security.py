"""Sign-in lockout, idle sessions, ``check --deploy`` and error reports without personal data
(``web/lockout.py``, ``web/security.py``, the security part of ``web/settings``)."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import string
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import get_exception_reporter_class, get_exception_reporter_filter

from web.security import SEEN_KEY, STARTED_KEY, TOUCH_EVERY_S, client_ip

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"
LOCKED_ZH = "登录失败次数过多"
LOCKED_EN = "Too many failed sign-ins"


def _sign_in(client: Client, username: str, password: str, ip: str = "127.0.0.1") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _fail(client: Client, username: str, times: int, ip: str = "127.0.0.1") -> list[int]:
    return [_sign_in(client, username, "wrong", ip).status_code for _ in range(times)]


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


# --- lockout ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_user_name(settings: Any) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    UserFactory(username="alice")
    client = Client()
    # Four failures show the form's own error; the fifth locks the name (429, both languages).
    assert _fail(client, "alice", 4) == [200] * 4
    locked = _sign_in(client, "alice", "wrong")
    assert locked.status_code == 429 and int(locked["Retry-After"]) == 15 * 60
    page = locked.content.decode()
    assert LOCKED_ZH in page and LOCKED_EN in page and 'name="username"' in page
    # The right password is refused now.
    refused = _sign_in(client, "alice", "pw")
    assert refused.status_code == 429 and not _signed_in(client)
    assert LOCKED_ZH in refused.content.decode()


def test_the_lockout_ends_after_the_cool_off(settings: Any) -> None:
    UserFactory(username="alice")
    client = Client()
    _fail(client, "alice", 5)
    assert _sign_in(client, "alice", "pw").status_code == 429
    # The counted failures age past the cool-off (moved back in the table, not waited for).
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    response = _sign_in(client, "alice", "pw")
    assert response.status_code == 302 and _signed_in(client)


def test_another_user_is_not_affected() -> None:
    UserFactory(username="alice")
    UserFactory(username="bob")
    _fail(Client(), "alice", 5)
    other = Client()
    # Same computer, another user name: the address has 5 failures of its 20.
    assert _sign_in(other, "bob", "pw").status_code == 302 and _signed_in(other)


def test_a_client_address_is_locked_after_its_own_limit(settings: Any) -> None:
    settings.PLATEGRID_LOGIN_IP_FAILURE_LIMIT = 6
    UserFactory(username="carol")
    # Three failures for each of two names: no name reaches 5, the address reaches 6.
    _fail(Client(), "alice", 3, ip="10.1.1.1")
    _fail(Client(), "bob", 3, ip="10.1.1.1")
    assert _sign_in(Client(), "carol", "pw", ip="10.1.1.1").status_code == 429
    from_elsewhere = Client()
    assert _sign_in(from_elsewhere, "carol", "pw", ip="10.2.2.2").status_code == 302
    assert _signed_in(from_elsewhere)


def test_api_basic_auth_is_refused_with_429_in_both_languages() -> None:
    UserFactory(username="alice")
    client = Client()
    url = reverse("district-list")
    statuses = [client.get(url, **_basic("alice", "wrong")).status_code for _ in range(4)]
    assert set(statuses) <= {401, 403}
    assert client.get(url, **_basic("alice", "wrong")).status_code == 429
    response = client.get(url, **_basic("alice", "pw"))
    assert response.status_code == 429 and response["Retry-After"] == str(15 * 60)
    body = response.json()
    assert body["code"] == "login_locked"
    assert LOCKED_ZH in body["detail_zh"] and LOCKED_EN in body["detail_en"]
    # The same name is locked on the sign-in page too (one count per name).
    assert _sign_in(Client(), "alice", "pw").status_code == 429
    # Another user's basic authentication still works.
    UserFactory(username="bob")
    assert client.get(url, **_basic("bob", "pw")).status_code == 200


def test_failures_and_refusals_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    UserFactory(username="alice")
    client = Client()
    with caplog.at_level(logging.WARNING, logger="plategrid.security"):
        _fail(client, "alice", 5, ip="10.3.3.3")
        _sign_in(client, "alice", "pw", ip="10.3.3.3")
    lines = [r.getMessage() for r in caplog.records if r.name == "plategrid.security"]
    failed = [line for line in lines if line.startswith("sign-in failed")]
    refused = [line for line in lines if line.startswith("sign-in refused")]
    assert len(failed) == 6 and "'alice'" in failed[0] and "10.3.3.3" in failed[0]
    assert len(refused) == 2  # the fifth failure locks, the sixth attempt is refused
    assert all("pw" not in line and "wrong" not in line for line in lines)


def test_the_test_clients_login_and_force_login_still_work() -> None:
    user = UserFactory(username="alice")
    client = Client()
    # Request-less authentication (the test client's login) is neither refused nor counted.
    assert client.login(username="alice", password="pw")
    assert not Client().login(username="alice", password="wrong")
    assert AccessAttempt.objects.count() == 0
    other = Client()
    other.force_login(user)
    assert other.get(reverse("map")).status_code == 200


def test_the_lockout_page_keeps_the_next_url() -> None:
    UserFactory(username="alice")
    client = Client()
    _fail(client, "alice", 5)
    response = client.post(
        f"{LOGIN}?next=/map/", {"username": "alice", "password": "pw", "next": "/map/"}
    )
    assert response.status_code == 429 and 'value="/map/"' in response.content.decode()


# --- sessions --------------------------------------------------------------------------------


def _age_session(client: Client, **seconds_ago: int) -> None:
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def test_an_idle_session_is_signed_out(settings: Any) -> None:
    assert settings.PLATEGRID_SESSION_IDLE_SECONDS == 30 * 60
    client = Client()
    client.force_login(UserFactory(username="alice"))
    assert client.get(reverse("map")).status_code == 200
    _age_session(client, **{SEEN_KEY: settings.PLATEGRID_SESSION_IDLE_SECONDS + 1})
    response = client.get(reverse("map"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not _signed_in(client)


def test_activity_keeps_a_session_alive(settings: Any) -> None:
    client = Client()
    client.force_login(UserFactory(username="alice"))
    idle = settings.PLATEGRID_SESSION_IDLE_SECONDS
    _age_session(client, **{SEEN_KEY: idle - TOUCH_EVERY_S})
    assert client.get(reverse("map")).status_code == 200
    # The request was seen: its time was written, so the idle time starts again.
    assert int(time.time()) - client.session[SEEN_KEY] < TOUCH_EVERY_S
    assert client.get(reverse("map")).status_code == 200


def test_a_session_ends_after_its_maximum_age_however_active(settings: Any) -> None:
    client = Client()
    client.force_login(UserFactory(username="alice"))
    _age_session(client, **{SEEN_KEY: 0, STARTED_KEY: settings.PLATEGRID_SESSION_MAX_SECONDS + 1})
    assert client.get(reverse("map")).status_code == 302 and not _signed_in(client)


def test_an_idle_session_is_refused_by_the_api(settings: Any) -> None:
    client = Client()
    client.force_login(UserFactory(username="alice"))
    _age_session(client, **{SEEN_KEY: settings.PLATEGRID_SESSION_IDLE_SECONDS + 1})
    assert client.get(reverse("district-list")).status_code in (401, 403)


# --- client address --------------------------------------------------------------------------


def test_client_address_behind_trusted_proxies(settings: Any) -> None:
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7")
    settings.PLATEGRID_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.1"  # the header is the client's own say
    settings.PLATEGRID_TRUSTED_PROXIES = 1
    assert client_ip(request) == "192.0.2.7"  # what our proxy saw, not the forged entry
    settings.PLATEGRID_TRUSTED_PROXIES = 3
    assert client_ip(request) == "10.0.0.1"  # fewer hops than proxies: not trusted


# --- check --deploy --------------------------------------------------------------------------


def _production_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLATEGRID_")}
    alphabet = string.ascii_letters + string.digits
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "web.settings.production",
        # The registry's keyring (a deploy check refuses a missing or readable one): the tests'.
        "PLATEGRID_KEYRING": settings.PLATEGRID_KEYRING,
        "PLATEGRID_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "PLATEGRID_ALLOWED_HOSTS": "plategrid.example.org",
        **extra,
    }


CHECK_DEPLOY = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING')"
)


@pytest.mark.parametrize("proxies", ["0", "1"])
def test_check_deploy_is_clean_with_production_settings(proxies: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK_DEPLOY],
        cwd=ROOT,
        env=_production_env(PLATEGRID_TRUSTED_PROXIES=proxies),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout


def test_production_refuses_a_short_secret_key() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import web.settings.production"],
        cwd=ROOT,
        env=_production_env(PLATEGRID_SECRET_KEY="k" * 40),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "at least 50 characters" in result.stderr


# --- error reports ---------------------------------------------------------------------------

PERSONAL = {
    "id_number": "42060619800101123X",
    "phone": "13800138000",
    "reason": "checking the rental contract",
}


def _report(request: Any) -> tuple[str, str]:
    id_number = PERSONAL["id_number"]  # a frame variable named like personal data
    mobile_phone = PERSONAL["phone"]
    try:
        raise ValueError(f"failed for {len(id_number + mobile_phone)} characters")
    except ValueError:
        reporter_class = get_exception_reporter_class(request)
        reporter = reporter_class(request, *sys.exc_info())
        return reporter.get_traceback_text(), reporter.get_traceback_html()


def test_error_reports_hide_personal_parameters_and_variables() -> None:
    query = "id_number=42060619800101123X&page=2"
    request = RequestFactory().post(
        f"/api/registry/residents/?{query}",
        {**PERSONAL, "reveal_reason": PERSONAL["reason"], "name_hint": "Zhang", "password": "pw1"},
    )
    assert type(get_exception_reporter_filter(request)).__name__ == "PersonalDataReporterFilter"
    for text in _report(request):
        for value in [*PERSONAL.values(), "pw1"]:
            assert value not in text, value
        assert "Zhang" in text  # other parameters stay, to debug with
        assert "page" in text
