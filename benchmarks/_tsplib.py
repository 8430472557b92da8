"""Readers of TSPLIB (``.tsp``) and CVRPLIB (``.vrp``) instance files, for ``benchmarks/routes.py``.

Only what the public benchmark instances use: ``NODE_COORD_SECTION`` with ``EUC_2D`` or ``ATT``
distances, and for the CVRP ``CAPACITY``, ``DEMAND_SECTION`` and ``DEPOT_SECTION``. Distances
follow the TSPLIB rules (Reinelt, 1991): EUC_2D is the Euclidean distance rounded to the nearest
integer, ``int(d + 0.5)``; ATT (pseudo-Euclidean) is ``r = sqrt((dx² + dy²) / 10)``,
``t = int(r + 0.5)``, and ``t + 1`` when ``t < r``, else ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib
from numpy.typing import NDArray


@dataclass(frozen=True)
class Instance:
    """One instance: its integer distance matrix and, for a CVRP, demands, capacity and depot."""

    name: str
    kind: str  # "TSP" or "CVRP"
    distances: NDArray[np.int64]
    demands: NDArray[np.int64] | None = None
    capacity: int | None = None
    depot: int = 0


def read_instance(path: Path) -> Instance:
    """Read a ``.tsp`` or ``.vrp`` file (parsed by vrplib, MIT; the distances are computed here,
    by the TSPLIB rules, which vrplib does not apply); ``ValueError`` naming the file for anything
    unsupported."""
    data = vrplib.read_instance(path, compute_edge_weights=False)
    kind = str(data.get("type", "TSP")).split()[0]
    metric = data.get("edge_weight_type", "")
    if kind not in {"TSP", "CVRP"} or metric not in {"EUC_2D", "ATT"}:
        raise ValueError(f"{path}: TYPE {kind!r} with EDGE_WEIGHT_TYPE {metric!r} is not supported")
    distances = _distances(np.asarray(data["node_coord"], dtype=float), metric)
    name = str(data.get("name", path.stem))
    if kind == "TSP":
        return Instance(name, kind, distances)
    depots = np.atleast_1d(data["depot"])
    if len(depots) != 1:
        raise ValueError(f"{path}: {len(depots)} depots, only one is supported")
    demands = np.asarray(data["demand"], dtype=np.int64)
    return Instance(name, kind, distances, demands, int(data["capacity"]), int(depots[0]))


def _distances(coords: NDArray[np.float64], metric: str) -> NDArray[np.int64]:
    delta = coords[:, None, :] - coords[None, :, :]
    squared = (delta**2).sum(axis=-1)
    if metric == "ATT":
        r = np.sqrt(squared / 10.0)
        t = np.floor(r + 0.5)
        return np.where(t < r, t + 1, t).astype(np.int64)
    return np.floor(np.sqrt(squared) + 0.5).astype(np.int64)
