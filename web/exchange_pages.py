"""The department exchange page (``/exchange/``): upload a file, follow its job, read the report
and decide each row.

The page is a shell: the list, the report and the rows come from the API (``/api/exchange/``),
which scopes them and shows identity numbers masked. Words are translated here and handed to
the script with the URLs through ``json_script``; nothing is loaded from another host.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from data.exchange import MAX_BYTES, MAX_ROWS
from data.models import ExchangeDecision, ExchangeEvent, ExchangeOutcome
from gis.querysets import writes_somewhere

from .views import _client_words


def _words() -> dict[str, Any]:
    return _client_words() | {
        "upload": _("Upload"),
        "uploading": _("Uploading…"),
        "choose_file": _("Choose the file to upload."),
        "files": _("Files"),
        "no_files": _("No exchange file yet."),
        "open": _("Open"),
        "report": _("Report"),
        "rows": _("Rows"),
        "row": _("Row"),
        "all": _("All"),
        "undecided": _("undecided"),
        "submitted_by": _("submitted by"),
        "status": _("Status"),
        "score": _("score"),
        "candidates": _("Candidates"),
        "proposed": _("Proposed change"),
        "no_change": _("nothing to change"),
        "accept": _("Accept the change"),
        "register": _("Register as new"),
        "pick": _("This one"),
        "reject": _("Reject"),
        "note": _("Note (why)"),
        "note_required": _("Say why the row is rejected (a note of at least four characters)."),
        "decided": _("Decided"),
        "by": _("by"),
        "more": _("More rows"),
        "file_removed": _("file removed by the retention job"),
        "action_move_out": _("move out on %(on)s"),
        "action_move": _("move to the address on %(on)s"),
        "action_join_household": _("the spouse (%(spouse)s) joins the household on %(on)s"),
        "action_register": _("register in the room on %(on)s"),
        "action_register_household": _("register in the parents' household on %(on)s"),
        "change_name": _("name → %(name)s"),
        "change_id_number": _("add the identity number %(masked)s"),
        "events": {k: str(v) for k, v in ExchangeEvent.choices},
        "outcomes": {k: str(v) for k, v in ExchangeOutcome.choices},
        "decisions": {k: str(v) for k, v in ExchangeDecision.choices},
    }


@never_cache
@login_required
@require_GET
def exchange_page(request: HttpRequest) -> HttpResponse:
    config = {
        "urls": {
            "files": reverse("exchange-file-list"),
            "decide": reverse("exchange-decide", kwargs={"pk": 0}).replace("/0/", "/{id}/"),
        },
        "can_upload": writes_somewhere(request.user),
        "outcomes": list(ExchangeOutcome.values),
        "words": _words(),
    }
    context = {
        "config": config,
        "limit_mb": MAX_BYTES // 2**20,
        "limit_rows": f"{MAX_ROWS:,}",
        "can_upload": config["can_upload"],
    }
    return render(request, "web/exchange/page.html", context)


urlpatterns: list[URLPattern] = [
    path("", exchange_page, name="exchange"),
]
