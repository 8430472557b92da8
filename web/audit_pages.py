"""The auditor's page (``/audit/``): the access log of personal data — who revealed, searched by
identity number or exported what, when and why — with filters (who, action, date range,
community), paging and a CSV download that needs a reason and is itself logged.

For holders of ``registry.audit`` only (others get a 403 page in Chinese and English). The rows
are those of ``registry.api.people.access_log_for`` (the auditor's territory), read inside
:func:`registry.privacy.personal` as the database's auditor role, which may only read the log.
Rendered on the server, no script; the table scrolls sideways on a phone.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from gis.exceptions import PlategridError, ScopeError
from gis.masking import spreadsheet_text
from registry.api.people import access_log_for
from registry.models import Access, AccessLog
from registry.privacy import AUDITOR, clean_reason, log_access, personal

PAGE_SIZE = 50
FILTERS = ("user", "action", "since", "until", "community")
#: The most rows one CSV download holds (a narrower filter gets the rest).
CSV_LIMIT = 100_000


def _refused(request: HttpRequest) -> HttpResponse:
    error = ScopeError(gettext_lazy("Only auditors may read the access log."), code="audit_denied")
    context = {"title": _("Access log"), "zh": error.render("zh-hans"), "en": error.render("en")}
    return render(request, "web/audit/refused.html", context, status=403)


def _is_auditor(user: Any) -> bool:
    return bool(user.is_active and user.has_perm("registry.audit"))


def _filters(params: QueryDict) -> dict[str, str]:
    return {key: params.get(key, "")[:150] for key in FILTERS}


def _query(filters: dict[str, str]) -> str:
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in filters.items() if v})
    return query.urlencode()


def _page(
    request: HttpRequest,
    params: QueryDict,
    *,
    error: PlategridError | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = _filters(params)
    context: dict[str, Any] = {
        "filters": filters,
        "query": _query(filters),
        "actions": Access.choices,
        "error": None,
        "page": None,
        "rows": [],
    }
    try:
        rows = access_log_for(request.user, params)
        with personal(request.user, role=AUDITOR):
            page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
            context |= {"page": page, "rows": list(page.object_list)}
    except PlategridError as exc:
        error, status = exc, 400
    if error is not None:
        context["error"] = {"zh": error.render("zh-hans"), "en": error.render("en")}
    return render(request, "web/audit/log.html", context, status=status)


@never_cache
@login_required
@require_GET
def audit_page(request: HttpRequest) -> HttpResponse:
    if not _is_auditor(request.user):
        return _refused(request)
    return _page(request, request.GET)


def _csv(rows: list[AccessLog]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("at"),
            _("user"),
            _("action"),
            _("what"),
            _("community code"),
            _("rows"),
            _("reason"),
            _("path"),
        ]
    )
    labels = dict(Access.choices)
    for row in rows:
        writer.writerow(
            [
                spreadsheet_text(value)
                for value in (
                    timezone.localtime(row.at).isoformat(timespec="seconds"),
                    row.username,
                    labels.get(row.action, row.action),
                    row.what,
                    row.community_code,
                    row.rows,
                    row.reason,
                    row.path,
                )
            ]
        )
    # A byte-order mark, so that spreadsheet programs read the Chinese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@sensitive_post_parameters("reason")
@login_required
@require_POST
def audit_csv(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV; the download needs a reason and is logged (action "export")."""
    if not _is_auditor(request.user):
        return _refused(request)
    try:
        reason = clean_reason(request.POST.get("reason"))
        rows = access_log_for(request.user, request.POST)
        with personal(request.user, role=AUDITOR):
            chosen = list(rows[:CSV_LIMIT])
    except PlategridError as exc:
        return _page(request, request.POST, error=exc, status=400)
    filters = _query(_filters(request.POST))
    log_access(
        request.user,
        Access.EXPORT,
        f"access log CSV {filters}".strip()[:200],
        reason=reason,
        rows=len(chosen),
        path=request.path,
    )
    response = HttpResponse(_csv(chosen), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("", audit_page, name="audit"),
    path("access-log.csv", audit_csv, name="audit-csv"),
]
