"""Field packs as background jobs: submit (checked at once, nothing heavy), run (read, lay out,
draw, write the PDF and the GeoPackage), and the files' retention.

A submission that repeats one of the user's queued or running jobs (same pack, same paper) gets
that job back instead of a second one (a double click, a retried request). Files live in the
default storage under ``sheets/``; a user's packs older than ``settings.SHEET_KEEP_DAYS`` are
deleted, with their files, whenever they submit a new one.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gis.exceptions import InvalidInputError
from gis.progress import JobStatus, ProgressWriter, claim_job, fail_job_for, succeed_job
from grid.sweeps import sweep_for, team_for
from layers.models import PackKindChoice, PaperChoice, SheetJob

from . import content
from .gpkg import write_gpkg
from .pack import Pack, Paper
from .render import render_pack

Progress = Callable[[int, int], None]
#: Progress steps: reading is the first tenth, drawing the rest, the GeoPackage and saving last.
READ_STEPS = 10
DRAW_STEPS = 85
TOTAL_STEPS = 100


#: What each field of a submission is, in the messages.
FIELDS = {
    "kind": _("pack kind"),
    "paper": _("paper size"),
    "sweep": _("the sweep (its id)"),
    "team": _("the team (its id)"),
    "zone": _("the zone (its 15-digit code)"),
    "building": _("the building (its id)"),
}


def _choice(value: Any, choices: type[Any], field: str) -> str:
    if value in choices.values:
        return str(value)
    raise InvalidInputError(
        _("Unknown %(what)s %(value)s: use one of %(allowed)s."),
        code=f"bad_{field}",
        field=field,
        what=FIELDS[field],
        value=repr(value)[:30],
        allowed=", ".join(choices.values),
    )


def _day(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit())
    ):
        raise InvalidInputError(
            _("The day must be a whole number of the plan, not %(value)s."),
            code="bad_day",
            field="day",
            value=repr(value)[:30],
        )
    day = int(value)
    if not 1 <= day <= 366:
        raise InvalidInputError(
            _("There is no day %(value)s in a plan."), code="bad_day", field="day", value=day
        )
    return day


def _required(value: Any, field: str) -> Any:
    if value in (None, ""):
        raise InvalidInputError(
            _("This pack needs %(what)s."), code="required", field=field, what=FIELDS[field]
        )
    return value


def submit_pack(user: Any, options: dict[str, Any], *, queue: bool = True) -> tuple[SheetJob, bool]:
    """Check the pack ``options`` (``kind``: team_day | sweep | zone | building; ``sweep``,
    ``team``, ``day``, ``zone``, ``building``, ``paper``) against what ``user`` may see, and queue
    its job; returns (job, created). The same pending job is returned when it exists."""
    kind = _choice(options.get("kind"), PackKindChoice, "kind")
    paper = _choice(options.get("paper") or PaperChoice.AUTO, PaperChoice, "paper")
    fields: dict[str, Any] = {"kind": kind, "paper": paper}
    if kind in (PackKindChoice.TEAM_DAY, PackKindChoice.SWEEP):
        sweep = sweep_for(user, _required(options.get("sweep"), "sweep"))
        plan = content.plan_of(sweep)
        fields["sweep"] = sweep
        if kind == PackKindChoice.TEAM_DAY:
            team = team_for(sweep, _required(options.get("team"), "team"))
            day = _day(options.get("day"))
            if day is not None:
                content.require_day(plan, team, day)
            fields.update(team=team, day=day)
    elif kind == PackKindChoice.ZONE:
        fields["zone_code"] = content.zone_for(user, _required(options.get("zone"), "zone")).code
    else:
        fields["building"] = content.building_for(
            user, _required(options.get("building"), "building")
        )
    pending = SheetJob.objects.filter(
        created_by=user, status__in=(JobStatus.QUEUED, JobStatus.RUNNING), **fields
    ).first()
    if pending is not None:
        return pending, False
    forget_old(user)
    job = SheetJob.objects.create(
        created_by=user, language=translation.get_language() or "zh-hans", **fields
    )
    if queue:
        from layers.tasks import run_sheet_task

        transaction.on_commit(lambda: run_sheet_task.enqueue(str(job.pk)))
    return job, True


def forget_old(user: Any) -> int:
    """Delete ``user``'s finished packs older than ``SHEET_KEEP_DAYS``, with their files."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.SHEET_KEEP_DAYS)
    old = list(
        SheetJob.objects.filter(
            created_by=user,
            created_at__lt=cutoff,
            status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED),
        )
    )
    for job in old:
        delete_files(job)
        job.delete()
    return len(old)


def delete_files(job: SheetJob) -> None:
    for field in (job.pdf, job.gpkg):
        if field:
            field.delete(save=False)


def read_pack(job: SheetJob) -> Pack:
    """The pack of ``job`` as its submitter sees it now."""
    paper = Paper(job.paper)
    user = job.created_by
    if job.kind == PackKindChoice.BUILDING:
        return content.building_pack(user, job.building_id, paper=paper)
    if job.kind == PackKindChoice.ZONE:
        return content.zone_pack(user, job.zone_code, paper=paper)
    return content.sweep_pack(
        user,
        job.sweep_id,
        team_id=job.team_id if job.kind == PackKindChoice.TEAM_DAY else None,
        day=job.day,
        paper=paper,
    )


def run_pack(job_id: str, *, progress: Progress | None = None) -> SheetJob:
    """Run a queued pack job (the worker calls this); returns it finished. A job that is not
    queued is left as it is."""
    claimed = claim_job(SheetJob, job_id)
    job = SheetJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    report = ProgressWriter(SheetJob, job.pk, also=progress)
    started = time.monotonic()
    try:
        with translation.override(job.language):
            pack = read_pack(job)
            read_s = time.monotonic() - started
            report(READ_STEPS, TOTAL_STEPS)

            def drawn(done: int, total: int) -> None:
                report(READ_STEPS + DRAW_STEPS * done // max(total, 1), TOTAL_STEPS)

            rendered = render_pack(pack, progress=drawn)
            drawn_at = time.monotonic()
            gpkg = write_gpkg(pack, rendered.sheets, rendered.refs)
            gpkg_s = time.monotonic() - drawn_at
        name = f"plategrid-{job.kind}-{str(job.pk)[:8]}"
        job.pdf.save(f"{name}.pdf", ContentFile(rendered.pdf), save=False)
        job.gpkg.save(f"{name}.gpkg", ContentFile(gpkg), save=False)
        job.title = pack.title[:300]
        job.pages = rendered.pages
        job.sheets = len(rendered.sheets)
        job.seconds = round(time.monotonic() - started, 2)
        job.report = {
            "parts": {part: [n, round(s, 3)] for part, (n, s) in rendered.parts.items()},
            "read_s": round(read_s, 3),
            "draw_s": round(drawn_at - started - read_s, 3),
            "gpkg_s": round(gpkg_s, 3),
            "buildings": len(pack.buildings),
            "rooms": sum(len(b.rooms) for b in pack.buildings),
            "pdf_bytes": len(rendered.pdf),
            "gpkg_bytes": len(gpkg),
        }
        succeed_job(job, steps=TOTAL_STEPS, also=progress)
    except Exception as error:
        delete_files(job)
        fail_job_for(
            job, error, zh="图幅生成失败，未保存文件：", en="The pack failed, no file saved: "
        )
    finally:
        report.close()
    return job
