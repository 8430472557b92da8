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
    """Read a ``.tsp`` or ``.vrp`` file; ``ValueError`` naming the file for anything unsupported."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if ":" in line:  # a header entry; section rows are numbers only
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
            current = None
        elif line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif current is not None:
            sections[current].append(line.split())
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    kind = header.get("TYPE", "TSP").split()[0]
    metric = header.get("EDGE_WEIGHT_TYPE", "")
    if kind not in {"TSP", "CVRP"} or metric not in {"EUC_2D", "ATT"}:
        raise ValueError(f"{path}: TYPE {kind!r} with EDGE_WEIGHT_TYPE {metric!r} is not supported")
    coords = np.array([[float(v) for v in row[1:3]] for row in sections["NODE_COORD_SECTION"]])
    distances = _distances(coords, metric)
    name = header.get("NAME", path.stem)
    if kind == "TSP":
        return Instance(name, kind, distances)
    demands = np.array([int(row[1]) for row in sections["DEMAND_SECTION"]], dtype=np.int64)
    depots = [int(row[0]) for row in sections["DEPOT_SECTION"] if int(row[0]) > 0]
    if len(depots) != 1:
        raise ValueError(f"{path}: {len(depots)} depots, only one is supported")
    return Instance(name, kind, distances, demands, int(header["CAPACITY"]), depots[0] - 1)


def _distances(coords: NDArray[np.float64], metric: str) -> NDArray[np.int64]:
    delta = coords[:, None, :] - coords[None, :, :]
    squared = (delta**2).sum(axis=-1)
    if metric == "ATT":
        r = np.sqrt(squared / 10.0)
        t = np.floor(r + 0.5)
        return np.where(t < r, t + 1, t).astype(np.int64)
    return np.floor(np.sqrt(squared) + 0.5).astype(np.int64)
