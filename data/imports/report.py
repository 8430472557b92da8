"""What an import did, row by row: the counts and every rejected or repaired row.

Pure Python: the importers fill a :class:`Report`, the job runner stores it (``data.jobs``).
Messages are kept in Chinese and English, rendered from the same lazy strings as every other
error of the project (:class:`gis.exceptions.PlategridError`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack

from gis.exceptions import PlategridError

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Issue:
    row: int
    severity: Literal["rejected", "repaired"]
    code: str
    message_zh: str
    message_en: str
    source_id: str = ""
    field: str = ""
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


class Where(TypedDict, total=False):
    """Which row an issue is about, besides its number: its id, and the row as read."""

    source_id: str
    data: dict[str, Any] | None


@dataclass
class Report:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[Issue] = dataclasses.field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == "rejected")

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def reject(self, row: int, error: PlategridError, **where: Unpack[Where]) -> None:
        """Row ``row`` (1-based, as the user counts rows or features) is not imported."""
        self._add("rejected", row, error, **where)

    def repaired(self, row: int, error: PlategridError, **where: Unpack[Where]) -> None:
        """Row ``row`` was imported after a change that the user should know about."""
        self._add("repaired", row, error, **where)

    def _add(
        self,
        severity: Literal["rejected", "repaired"],
        row: int,
        error: PlategridError,
        *,
        source_id: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.issues.append(
            Issue(
                row=row,
                severity=severity,
                code=error.code,
                message_zh=error.render("zh-hans"),
                message_en=error.render("en"),
                source_id=source_id,
                field=error.field or "",
                data=data or {},
            )
        )

    def accounted(self) -> bool:
        """Every row read is created, updated, unchanged or rejected: none went missing."""
        return self.read == self.created + self.updated + self.unchanged + self.rejected
