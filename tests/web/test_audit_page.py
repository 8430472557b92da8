"""The auditor's page (/audit/): auditors only (a bilingual 403 for others), the auditor's
territory, filters, paging, the CSV download that needs a reason and is itself logged, and nothing
fetched from another host."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from gis.models import Role
from registry.models import AccessLog
from registry.privacy import log_access

from ..conftest import Territory
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def _auditor(username: str, code: str) -> Any:
    user = UserFactory(username=username, grants=[(Role.READ_ONLY, code)])
    user.user_permissions.add(Permission.objects.get(codename="audit"))
    return type(user).objects.get(pk=user.pk)


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def logged(territory: Territory, users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    log_access(
        worker, "reveal", "resident 7", reason="核对租户身份", community_code=territory.home.code
    )
    log_access(worker, "search", "id_number 4206**", reason="来访登记核对")
    log_access(
        users[Role.STREET_SUPERVISOR],
        "export",
        "register",
        reason="月度上报",
        community_code=territory.away.code,
        rows=12,
    )


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", body)


def test_others_get_a_bilingual_403(logged, users) -> None:
    for role in (Role.COMMUNITY_WORKER, Role.DISTRICT_ADMIN):
        response = _client(users[role]).get(reverse("audit"))
        assert response.status_code == 403
        content = response.content.decode()
        assert 'lang="zh-Hans"' in content and 'lang="en"' in content
        assert "Only auditors may read the access log." in content
        assert "核对租户身份" not in content
    assert (
        _client(users[Role.COMMUNITY_WORKER])
        .post(reverse("audit-csv"), {"reason": "抽查日志"})
        .status_code
        == 403
    )
    anonymous = Client().get(reverse("audit"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_auditor_sees_the_log_of_the_territory_with_filters(logged, territory: Territory) -> None:
    district = _client(_auditor("audit", "420606"))
    page = district.get(reverse("audit"))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert _rows(html) == ["street", "worker", "worker"]
    assert "核对租户身份" in html and "月度上报" in html
    assert _rows(district.get(reverse("audit"), {"action": "export"}).content.decode()) == [
        "street"
    ]
    assert _rows(district.get(reverse("audit"), {"user": "worker"}).content.decode()) == [
        "worker",
        "worker",
    ]
    home = district.get(reverse("audit"), {"community": territory.home.code}).content.decode()
    assert _rows(home) == ["worker"]
    assert _rows(district.get(reverse("audit"), {"until": "2001-01-01"}).content.decode()) == []
    bad = district.get(reverse("audit"), {"since": "tomorrow"})
    assert bad.status_code == 400
    assert 'class="error"' in bad.content.decode()
    # A community's auditor: that community's rows only.
    away = _client(_auditor("audit2", territory.away.code)).get(reverse("audit")).content.decode()
    assert _rows(away) == ["street"]


def test_paging_keeps_the_filters(users) -> None:
    worker = users[Role.COMMUNITY_WORKER]
    for n in range(55):
        log_access(worker, "search", f"id_number {n}", reason="来访登记核对")
    auditor = _client(_auditor("audit", "420606"))
    first = auditor.get(reverse("audit"), {"action": "search"}).content.decode()
    assert len(_rows(first)) == 50
    assert "action=search&amp;page=2" in first
    second = auditor.get(reverse("audit"), {"action": "search", "page": 2}).content.decode()
    assert len(_rows(second)) == 5
    assert len(_rows(auditor.get(reverse("audit"), {"page": "x"}).content.decode())) == 50


def test_csv_needs_a_reason_and_is_logged(logged) -> None:
    user = _auditor("audit", "420606")
    auditor = _client(user)
    refused = auditor.post(reverse("audit-csv"), {"reason": " ", "action": "reveal"})
    assert refused.status_code == 400
    assert AccessLog.objects.count() == 3
    response = auditor.post(reverse("audit-csv"), {"reason": "季度抽查", "user": "worker"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3  # the header and the worker's two entries
    assert {r[1] for r in rows[1:]} == {"worker"}
    assert "核对租户身份" in text
    entry = AccessLog.objects.order_by("-id").first()
    assert (entry.username, entry.action, entry.rows, entry.reason, entry.path) == (
        "audit",
        "export",
        2,
        "季度抽查",
        reverse("audit-csv"),
    )
    assert "user=worker" in entry.what


def test_page_is_self_contained_phone_ready_and_bilingual(logged) -> None:
    user = _auditor("audit", "420606")
    for language in ("zh-hans", "en"):
        html = _client(user, language).get(reverse("audit")).content.decode()
        assert f'<html lang="{language}">' in html
        assert 'name="viewport"' in html and '<div class="table">' in html
        assert not re.search(r"""(src|href|action)=["'](https?:)?//""", html)
