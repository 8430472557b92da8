"""The dashboard page of a territory node (``/coverage/dashboard/?code=``): the seeds' measures
as cards (value, target, status colour, links to the coverage map and to the list behind), the
sweeps in progress, the children table with drill-down links, the breadcrumb up the territory,
and the downloads: the dashboard as XLSX and the monthly report (信息月报) as XLSX or PDF.

Every figure comes from ``layers.coverage.dashboard.dashboard`` (scoped: a node beside the
user's territory answers 404, a node above it shows the user's part); without ``?code=`` the
page shows the user's own territory node. Rendered on the server, no script needed; the cards
stack on a phone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from gis.exceptions import InvalidInputError, NotFoundError, PlategridError
from layers.coverage.dashboard import dashboard, own_node
from layers.coverage.report import child_columns


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _shown(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    return _percent(value) if unit == "share" else f"{value:,}"


def _card(measure: dict[str, Any]) -> dict[str, Any]:
    unit = measure["unit"]
    status = measure["status"]
    if measure["unit"] == "share" and measure["denominator"]:
        detail = f"{measure['numerator']:,} / {measure['denominator']:,}"
    elif measure["denominator"]:
        detail = _("of %(n)s") % {"n": f"{measure['denominator']:,}"}
    else:
        detail = ""
    return {
        **measure,
        "shown": _shown(measure["value"], unit),
        "detail": detail,
        "target_shown": None if measure["target"] is None else _shown(measure["target"], unit),
        "status_label": {"ok": _("target reached"), "below_target": _("below target")}.get(
            status or "", ""
        ),
        "css": status or "none",
    }


def _child_row(child: dict[str, Any]) -> dict[str, Any]:
    cells = []
    for key, _label, pct in child_columns()[2:]:
        if "." in key:
            outer, inner = key.split(".")
            value = child[outer].get(inner)
        else:
            value = child[key]
        cells.append(_percent(value) if pct else ("—" if value is None else f"{value:,}"))
    return {**child, "cells": cells}


def _month_default() -> str:
    today = timezone.localdate()
    return f"{today.year:04d}-{today.month:02d}"


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """The dashboard of ``?code=`` (default: the user's own territory node)."""
    code = request.GET.get("code", "").strip() or own_node(request.user)
    try:
        if not code:
            raise NotFoundError(gettext_lazy("Your account has no territory."), code="no_territory")
        data = dashboard(request.user, code)
    except NotFoundError as error:
        return _refused(request, error, 404)
    except InvalidInputError as error:
        return _refused(request, error, 400)
    api = reverse("coverage-dashboard-api")
    context = {
        "data": data,
        "node": data["node"],
        "crumbs": data["breadcrumb"][:-1],
        "cards": [_card(m) for m in data["measures"]],
        "sweeps": [{**s, "shown": _percent(s["value"])} for s in data["sweeps"]],
        "columns": [label for _key, label, _pct in child_columns()[2:]],
        "children": [_child_row(c) for c in data["children"]],
        "xlsx": f"{reverse('coverage-dashboard-xlsx')}?code={code}",
        "report": reverse("coverage-report"),
        "month": _month_default(),
        "api": f"{api}?code={code}",
        "code": code,
    }
    return render(request, "web/coverage/dashboard.html", context)


def _refused(request: HttpRequest, error: PlategridError, status: int) -> HttpResponse:
    """The page with the refusal in Chinese and in English (as the API's errors and the coverage
    export's page), whatever the request's language."""
    context = {"zh": error.render("zh-hans"), "en": error.render("en"), "data": None}
    return render(request, "web/coverage/dashboard.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("dashboard/", dashboard_page, name="coverage-dashboard"),
]
