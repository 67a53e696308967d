"""What the domains' demo stories share: the plain text tables they print.

tether.stories plays the stories (`tether demo`); each story imports this module,
so this module imports no story. Here too: `StoryLookups`, the base of each story's
own look-ups (sql/<domain>/story.sql) with the "rows left" counts they all print.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

from tether.changes import Changes
from tether.queries import Mapped
from tether.repository import Repository

Out = Callable[[str], None]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, columns as wide as their widest cell."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def changes_table(changes: Changes) -> str:
    """Rows deleted and updated per table, as PostgreSQL counted them."""
    tables = sorted(set(changes.deleted) | set(changes.updated))
    rows = [(t, changes.deleted.get(t, 0), changes.updated.get(t, 0)) for t in tables]
    return table(("table", "rows deleted", "rows updated"), rows)


@frozen
class RowCount:
    """A row of a story's "rows left" look-up: a table, and how many of its rows
    still belong to what the story follows."""

    table_name: str
    row_count: int


class StoryLookups(Repository):
    """The base of each story's own look-ups (its sql/<domain>/story.sql queries)."""

    async def _rows_left(self, query: Mapped[RowCount], **args: Any) -> str:
        """A `RowCount` query's answer as one line: "users 1, subjects 0, ..."."""
        rows: list[RowCount] = await self._many(query, **args)
        return ", ".join(f"{row.table_name} {row.row_count}" for row in rows)
