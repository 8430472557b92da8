"""Automatic partition jobs: submit, run in the background, apply.

``submit_partition`` checks the parameters and queues a job (django-tasks, database backend: the
worker is ``manage.py db_worker``); ``run_partition`` is what the worker runs: it reads the area,
the footprints with their workloads and the barriers (``grid.partition_input``), calls
``grid.partition.partition_area`` part by part and stores the proposed zones in EPSG:4326 with the
report. Nothing of the register changes until a user applies the proposal (``apply_partition``):
then the current zones are retired and the proposed ones saved through ``save_zone`` and
renumbered, in one transaction. Progress goes through a second connection
(``gis.progress.ProgressWriter``) so that the page polling the job sees it.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models.functions import Area, Intersection, Transform
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from numpy.typing import NDArray

from gis.crs import STORAGE_SRID, metric_srid
from gis.exceptions import NotFoundError
from gis.geometry import from_shapely
from gis.models import Community, Compound
from gis.progress import JobStatus, ProgressWriter, claim_job, fail_job, fail_job_for, succeed_job
from gis.services import require_write

from . import coverage, services
from .exceptions import PartitionAppliedError, PartitionJobError
from .models import PartitionJob, WorkloadMeasure, Zone
from .partition import PartitionError, partition_area
from .partition_input import PartitionInput, area_buildings, load_partition_input

Progress = Callable[[int, int], None]

#: Progress is reported in these steps: reading the input, the partition (most of the time,
#: follows ``partition_area``'s own progress), storing the proposal.
LOADED, PARTITIONED, STORED = 5, 95, 100

#: A footprint may stick out of the area by this much (m) and still be partitioned.
TOLERANCE_M = 0.5


# ---------------------------------------------------------------------------------------------
# Submit


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_parameters(zones: Any, target_workload: Any, workload: Any) -> None:
    if (zones is None) == (target_workload is None):
        raise PartitionJobError(
            _("Give either a number of zones or a workload per zone, not both and not neither."),
            code="zones_or_target",
            field="zones",
        )
    if zones is not None and (not isinstance(zones, int) or isinstance(zones, bool) or zones < 1):
        raise PartitionJobError(
            _("The number of zones must be a whole number of at least 1, not %(value)s."),
            code="bad_zones",
            field="zones",
            value=repr(zones)[:30],
        )
    if target_workload is not None and not (_is_number(target_workload) and target_workload > 0):
        raise PartitionJobError(
            _("The workload per zone must be a positive number, not %(value)s."),
            code="bad_target",
            field="target_workload",
            value=repr(target_workload)[:30],
        )
    if workload not in WorkloadMeasure.values:
        raise PartitionJobError(
            _("Unknown workload measure %(value)s: use one of %(allowed)s."),
            code="bad_workload",
            field="workload",
            value=repr(workload)[:30],
            allowed=", ".join(WorkloadMeasure.values),
        )


def _place(actor: Any, community: Any, compound: Any) -> tuple[Community, Compound | None]:
    code = community.code if isinstance(community, Community) else community
    place = services.community_in_scope(actor, code)
    if compound is None:
        return place, None
    compound_id = compound.pk if isinstance(compound, Compound) else compound
    found = None
    if isinstance(compound_id, int) and not isinstance(compound_id, bool):
        found = Compound.objects.filter(pk=compound_id, community=place).first()
    if found is None:
        raise NotFoundError(
            _("Compound %(value)s is not in community %(community)s."),
            field="compound",
            value=repr(compound_id)[:30],
            community=place.code,
        )
    return place, found


def submit_partition(
    *,
    actor: Any,
    community: str | Community,
    zones: int | None = None,
    target_workload: float | None = None,
    workload: str = WorkloadMeasure.ROOMS,
    compound: int | Compound | None = None,
    queue: bool = True,
) -> PartitionJob:
    """Check the parameters and queue a partition of ``community`` (or of ``compound`` in it)
    into ``zones`` zones or zones of about ``target_workload``; the worker runs it once the
    transaction commits (``queue=False``: the caller runs it, as the command line does).

    A community outside the actor's territory raises :class:`NotFoundError`, one outside their
    write scope :class:`ScopeError`; bad parameters, a community without buildings or more zones
    than buildings :class:`PartitionJobError`.
    """
    place, part = _place(actor, community, compound)
    require_write(actor, place.code)
    _check_parameters(zones, target_workload, workload)
    buildings = area_buildings(place, part).count()
    if not buildings:
        raise PartitionJobError(
            _("%(place)s has no buildings: a partition needs buildings to share out."),
            code="no_buildings",
            field="compound" if part else "community",
            place=str(part or place),
        )
    if zones is not None and zones > buildings:
        raise PartitionJobError(
            _(
                "%(value)s zones asked for but %(place)s has only %(count)s buildings: every "
                "zone needs at least one building."
            ),
            code="too_many_zones",
            field="zones",
            value=zones,
            place=str(part or place),
            count=buildings,
        )
    job = PartitionJob.objects.create(
        community=place,
        compound=part,
        zones=zones,
        target_workload=target_workload,
        workload=workload,
        created_by=actor,
        system=actor is None,
    )
    if queue:
        from .tasks import run_partition_task

        transaction.on_commit(lambda: run_partition_task.enqueue(str(job.pk)))
    return job


# ---------------------------------------------------------------------------------------------
# Run


def run_partition(job_id: str, *, progress: Progress | None = None) -> PartitionJob:
    """Run a queued job (the worker calls this); returns it finished. A job that is not queued
    is left as it is: a task delivered twice does not run twice."""
    claimed = claim_job(PartitionJob, job_id)
    job = PartitionJob.objects.select_related("community", "compound", "created_by").get(pk=job_id)
    if not claimed:
        return job
    if job.created_by is None and not job.system:
        # The submitter was deleted while the job waited: never run it without a territory.
        fail_job(
            job,
            "提交此分区的用户已被删除，分区未运行。",
            "The user who submitted this partition was deleted: it did not run.",
        )
        return job
    report = ProgressWriter(PartitionJob, job.pk, also=progress)
    try:
        require_write(job.created_by, job.community_id)
        data = load_partition_input(job.community, compound=job.compound, workload=job.workload)
        report(LOADED, STORED)
        job.result = _partition(job, data, report)
        report(PARTITIONED, STORED)
        succeed_job(job, steps=STORED, also=progress)
    except PartitionError as error:
        fail_job(job, f"无法分区：{error}", f"The area cannot be partitioned: {error}")
    except Exception as error:
        fail_job_for(job, error, zh="分区出错：", en="The partition failed: ")
    finally:
        report.close()
    return job


def _zones_per_part(wanted: int, workloads: list[float], counts: list[int]) -> list[int]:
    """``wanted`` zones shared among parts in proportion to their workload (largest remainder),
    at least one per part and at most one per building."""
    total = sum(workloads)
    shares = [
        w / total * wanted if total > 0 else wanted * c / sum(counts)
        for w, c in zip(workloads, counts, strict=True)
    ]
    given = [max(1, min(c, math.floor(s))) for s, c in zip(shares, counts, strict=True)]
    order = sorted(
        range(len(shares)), key=lambda i: shares[i] - math.floor(shares[i]), reverse=True
    )
    while sum(given) < wanted and any(g < c for g, c in zip(given, counts, strict=True)):
        for i in order:
            if sum(given) >= wanted:
                break
            if given[i] < counts[i]:
                given[i] += 1
    return given


def _partition(job: PartitionJob, data: PartitionInput, report: Progress) -> dict[str, Any]:
    """Partition every part of the area that has buildings; parts without buildings join the
    nearest zone. Returns the stored result: the proposal (EPSG:4326) and the report."""
    footprints = data.footprints
    members: list[NDArray[np.int64]] = []
    placed = np.zeros(len(footprints), dtype=bool)
    for part in data.parts:
        grown = shapely.buffer(part, TOLERANCE_M)
        shapely.prepare(grown)
        inside = np.flatnonzero(shapely.covers(grown, footprints) & ~placed)
        placed[inside] = True
        members.append(inside)
    filled = [i for i, m in enumerate(members) if len(m)]
    if not filled:
        raise PartitionJobError(
            _("No building lies inside the area: nothing to partition."), code="no_buildings"
        )
    per_part: list[int | None] = [None] * len(data.parts)
    if job.zones is not None:
        counts = [len(members[i]) for i in filled]
        loads = [float(data.weights[members[i]].sum()) for i in filled]
        for i, n in zip(filled, _zones_per_part(job.zones, loads, counts), strict=True):
            per_part[i] = n
    zones: list[shapely.Geometry] = []
    zone_members: list[NDArray[np.int64]] = []
    pp: list[float] = []
    cut = 0
    area_error = 0.0
    for step, i in enumerate(filled):

        def part_progress(done: int, total: int, step: int = step) -> None:
            share = (step + done / max(total, 1)) / len(filled)
            report(LOADED + round((PARTITIONED - LOADED) * share), STORED)

        inside = members[i]
        result = partition_area(
            data.parts[i],
            footprints[inside],
            data.weights[inside],
            zones=per_part[i],
            target_workload=job.target_workload if per_part[i] is None else None,
            barriers=data.barriers,
            tolerance_m=TOLERANCE_M,
            progress=part_progress,
        )
        zones.extend(result.zones)
        zone_members.extend(inside[result.assignment == z] for z in range(len(result.zones)))
        pp.extend(result.report.polsby_popper)
        cut += result.report.buildings_cut
        area_error += result.report.area_error_m2
    # Parts without buildings join the nearest zone (which becomes a MultiPolygon).
    for i, part in enumerate(data.parts):
        if i not in filled:
            nearest = int(np.argmin(shapely.distance(np.array(zones, dtype=object), part)))
            zones[nearest] = shapely.union(zones[nearest], part)
    workloads = [float(data.weights[m].sum()) for m in zone_members]
    mean = statistics.fmean(workloads) if workloads else 0.0
    features = []
    for index, (zone, m, load) in enumerate(zip(zones, zone_members, workloads, strict=True)):
        geom = from_shapely(zone, srid=metric_srid())
        geom.transform(STORAGE_SRID)
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geom.json),
                "properties": {"index": index, "workload": load, "buildings": len(m)},
            }
        )
    return {
        "zones": {"type": "FeatureCollection", "features": features},
        "report": {
            "zones": len(zones),
            "workloads": workloads,
            "max_mean": max(workloads) / mean if mean > 0 else 1.0,
            "pp_median": statistics.median(pp) if pp else 0.0,
            "buildings_cut": cut,
            "area_error_m2": area_error,
            "buildings": int(placed.sum()),
            "buildings_outside": int((~placed).sum()),
            "parts": len(data.parts),
        },
    }


# ---------------------------------------------------------------------------------------------
# Apply


def _zones_to_replace(job: PartitionJob) -> list[Zone]:
    """The current zones the proposal replaces: all of the community's, or those lying inside
    the compound; a zone crossing the compound's outline is refused."""
    current = Zone.objects.current().filter(community_id=job.community_id)
    if job.compound is None:
        return list(current)
    outline = job.compound.geom
    srid = metric_srid()
    touching = current.filter(geom__intersects=outline).annotate(
        inside_m2=Area(Transform(Intersection("geom", outline), srid)),
        total_m2=Area(Transform("geom", srid)),
    )
    tolerance = settings.GRID_OUTSIDE_TOLERANCE_M2
    replaced: list[Zone] = []
    crossing: list[Zone] = []
    for zone in touching.order_by("code"):
        inside, outside = zone.inside_m2.sq_m, zone.total_m2.sq_m - zone.inside_m2.sq_m
        if inside > tolerance and outside > tolerance:
            crossing.append(zone)
        elif inside > tolerance:
            replaced.append(zone)
    if crossing:
        raise PartitionJobError(
            _(
                "Zones %(zones)s cross the outline of compound %(compound)s: redraw them along "
                "the outline (or partition the whole community) before applying."
            ),
            code="zone_crosses_compound",
            zones=", ".join(z.code for z in crossing),
            compound=str(job.compound),
        )
    return replaced


@transaction.atomic
def apply_partition(*, actor: Any, job: PartitionJob) -> list[Zone]:
    """Replace the zones of the job's area by its proposal: retire them, save the proposed
    zones through ``save_zone`` (so they pass every check against the register as it is now),
    renumber the community's zones west → east, north → south and mark the job applied.
    Returns the new zones. Applying twice raises :class:`PartitionAppliedError` (409)."""
    job = (
        PartitionJob.objects.select_for_update(of=("self",))
        .select_related("community", "compound")
        .get(pk=job.pk)
    )
    require_write(actor, job.community_id)
    if job.applied_at is not None:
        raise PartitionAppliedError(
            _("This partition was applied on %(date)s already: submit a new one."),
            date=timezone.localtime(job.applied_at).strftime("%Y-%m-%d %H:%M"),
        )
    if job.status != JobStatus.SUCCEEDED or not job.result:
        raise PartitionJobError(
            _("This partition has not finished (%(status)s): wait for it before applying."),
            code="partition_not_finished",
            status=job.get_status_display(),
        )
    with coverage.batch():  # the community's coverage counts recounted once, at the end
        return _apply_partition(actor, job)


def _apply_partition(actor: Any, job: PartitionJob) -> list[Zone]:
    if not job.result:  # checked by apply_partition
        return []
    for zone in _zones_to_replace(job):
        services.retire_zone(actor=actor, zone=zone)
    features = job.result["zones"]["features"]
    shapes = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    points = shapely.point_on_surface(shapes)
    # Named in the order renumber_zones gives them codes: west → east, north → south.
    order = sorted(range(len(features)), key=lambda i: (points[i].x, -points[i].y))
    ordered = [features[i] for i in order]
    saved = [
        services.save_zone(
            actor=actor,
            data={"community": job.community, "name": f"第{n}网格", "geom": f["geometry"]},
        )
        for n, f in enumerate(ordered, start=1)
    ]
    services.renumber_zones(actor=actor, community=job.community)
    job.applied_at = timezone.now()
    job.applied_by = actor
    job.save(update_fields=["applied_at", "applied_by"])
    return list(Zone.objects.filter(pk__in=[z.pk for z in saved]).order_by("code"))
