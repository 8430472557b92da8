"""Pages of the responsibility grids: the index of the user's communities with their coverage and
staffing figures, the network map (工作网络图) of one community, and the staffing gaps.

Every figure comes from ``grid.services.coverage_check`` and ``staffing_gaps`` for the user's
territory (or the ``?code=`` under it), and the map from ``layers.network``, all scoped through
``visible_to(user)``: a code outside the territory answers 404. Phones are masked by the layers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gis.exceptions import NotFoundError, PlategridError
from gis.models import Building, Community, District, DoorPlate
from gis.querysets import territory_prefixes
from grid.models import AssignmentRole
from grid.services import (
    CommunityCoverage,
    CommunityStaffing,
    coverage_check,
    staffing_gaps,
)
from layers.network import network_chains, network_svg, sheet

#: Buildings without a building head listed by name and address on the staffing page.
BUILDINGS_LISTED = 50


class PageError(Exception):
    """A request this page cannot answer: shown with ``status`` and the message."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _refusal(request: HttpRequest, error: PageError) -> HttpResponse:
    return render(
        request, "web/grids/refused.html", {"message": error.message}, status=error.status
    )


def _territory_codes(request: HttpRequest) -> list[str]:
    """The territory codes a page covers: ``?code=`` (checked by the services), else the user's
    own territory (every district for a superuser)."""
    code = request.GET.get("code", "").strip()
    if code:
        return [code]
    prefixes = territory_prefixes(request.user)
    if prefixes is None:
        return list(District.objects.order_by("code").values_list("code", flat=True))
    # A grant under another grant adds nothing.
    return [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]


def _reports(
    request: HttpRequest, *, coverage: bool
) -> tuple[list[CommunityCoverage], list[CommunityStaffing]]:
    """The coverage (when asked) and staffing reports of every community of the page's territory
    (:func:`_territory_codes`): a fixed number of queries per territory code.

    A code the user typed with no community in their territory is refused (404); a grant of the
    user's own with no community yet is skipped.
    """
    asked = bool(request.GET.get("code", "").strip())
    covered: list[CommunityCoverage] = []
    staffed: list[CommunityStaffing] = []
    for code in _territory_codes(request):
        try:
            if coverage:
                covered.extend(coverage_check(code, user=request.user).communities)
            staffed.extend(staffing_gaps(code, user=request.user).communities)
        except NotFoundError as error:
            if asked:
                raise PageError(error.render(_language()), 404) from error
        except PlategridError as error:  # a ?code= that is no territory code
            raise PageError(error.render(_language()), 400) from error
    return covered, staffed


def _edit_url(code: str) -> str:
    """The zone drawing page of a community."""
    return reverse("grid-edit", kwargs={"code": code})


@dataclass
class IndexRow:
    coverage: CommunityCoverage
    staffing: CommunityStaffing
    edit_url: str
    shortages: list[tuple[str, int]]


@dataclass
class OfficeGroup:
    code: str
    name: str
    rows: list[IndexRow] = field(default_factory=list)


@login_required
@require_GET
def grid_index(request: HttpRequest) -> HttpResponse:
    """``/grids/``: the user's communities by street office with zones, uncovered area, buildings
    in no zone or cut, zones without a responsible person and staff shortages."""
    try:
        coverage, staffing = _reports(request, coverage=True)
    except PageError as error:
        return _refusal(request, error)
    roles = dict(AssignmentRole.choices)
    by_code = {s.code: s for s in staffing}
    offices = dict(
        Community.objects.visible_to(request.user)
        .filter(code__in=list(by_code))
        .values_list("code", "street_office__name")
        .order_by("code")
    )
    groups: dict[str, OfficeGroup] = {}
    for item in coverage:
        office = item.code[:9]
        group = groups.setdefault(office, OfficeGroup(office, offices.get(item.code, "")))
        staff = by_code[item.code]
        group.rows.append(
            IndexRow(
                item,
                staff,
                _edit_url(item.code),
                [(str(roles.get(s.role, s.role)), s.missing) for s in staff.shortages],
            )
        )
    return render(
        request,
        "web/grids/index.html",
        {
            "groups": list(groups.values()),
            "code": request.GET.get("code", ""),
            "communities": len(coverage),
        },
    )


def _language() -> str:
    return get_language() or "zh-hans"


@dataclass
class StaffingSection:
    report: CommunityStaffing
    buildings: list[tuple[int, str, str]]
    shortages: list[tuple[str, int, int, int]]


@login_required
@require_GET
def grid_staffing(request: HttpRequest) -> HttpResponse:
    """``/grids/staffing/?code=``: per community, zones without a responsible person, buildings
    with households and no building head (the first :data:`BUILDINGS_LISTED` with their
    address) and the roles short of the ratios."""
    try:
        _coverage, staffing = _reports(request, coverage=False)
    except PageError as error:
        return _refusal(request, error)
    listed = [b["id"] for s in staffing for b in s.buildings_without_head[:BUILDINGS_LISTED]]
    addresses = dict(
        Building.objects.visible_to(request.user)
        .filter(pk__in=listed)
        .annotate(_address=DoorPlate.objects.building_address(OuterRef("pk")))
        .values_list("pk", "_address")
    )
    roles = dict(AssignmentRole.choices)
    sections = [
        StaffingSection(
            report,
            [
                (b["id"], b["name"], addresses.get(b["id"]) or "")
                for b in report.buildings_without_head[:BUILDINGS_LISTED]
            ],
            [
                (str(roles.get(s.role, s.role)), s.needed, s.present, s.missing)
                for s in report.shortages
            ],
        )
        for report in staffing
    ]
    return render(
        request,
        "web/grids/staffing.html",
        {
            "sections": sections,
            "code": request.GET.get("code", ""),
            "listed": BUILDINGS_LISTED,
        },
    )


@login_required
@require_GET
def grid_network(request: HttpRequest, code: str) -> HttpResponse:
    """``/grids/<code>/network/``: the network map of one community inline with every zone's
    chain and the building heads below, ready to print; ``?format=svg`` downloads the map;
    ``?on=YYYY-MM-DD`` shows the chain of another day."""
    if not (code.isascii() and code.isdigit() and len(code) == 12):
        return _refusal(
            request,
            PageError(
                _(
                    "%(value)s is not a community code: the network map is drawn for one "
                    "community (12 digits)."
                )
                % {"value": code[:20]},
                404,
            ),
        )
    community = Community.objects.visible_to(request.user).filter(code=code).first()
    if community is None:
        return _refusal(
            request,
            PageError(
                _("No community with the code %(value)s in your territory.") % {"value": code},
                404,
            ),
        )
    on_text = request.GET.get("on", "")
    try:
        on = datetime.date.fromisoformat(on_text) if on_text else timezone.localdate()
    except ValueError:
        return _refusal(
            request,
            PageError(
                _("%(value)s is not a date: give it as YYYY-MM-DD.") % {"value": on_text[:20]},
                400,
            ),
        )
    try:
        chains = network_chains(community, user=request.user, on=on)
        svg = network_svg(community, user=request.user, on=on, chains=chains)
    except PlategridError as error:
        return _refusal(request, PageError(error.render(_language()), 404))
    if request.GET.get("format") == "svg":
        response = HttpResponse(
            '<?xml version="1.0" encoding="UTF-8"?>\n' + svg,
            content_type="image/svg+xml; charset=utf-8",
        )
        name = f"network-map-{community.code}-{on:%Y%m%d}.svg"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(
        request,
        "web/grids/network.html",
        {
            "community": community,
            "network": chains,
            "svg": svg,
            "paper": sheet(len(chains.zones)).lower(),
            "edit_url": _edit_url(community.code),
        },
    )
