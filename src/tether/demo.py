"""`tether demo [DOMAIN ...]`: each domain's story, played against a real database.

Each chosen domain (default: every domain, in the registry's order) gets a fresh
database `tether_demo_<domain>` on the server, with `common` and that domain
migrated (as a service using that domain alone would have it), and plays its
story, `tether.<domain>.story.play`. What the stories share is here: the plain
text tables they print, and `StoryLookups`, the base of each story's own look-ups
(sql/<domain>/story.sql) with the "rows left" counts they all print.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from attrs import frozen

from tether import admin, migrations
from tether import domains as registry
from tether.changes import Changes
from tether.database import Database, redact
from tether.queries import Mapped
from tether.repository import Repository

DEMO_DATABASE = "tether_demo"

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


async def run(
    server_url: str,
    domains: Iterable[str] | None = None,
    out: Out = print,
    database: str = DEMO_DATABASE,
) -> None:
    """Play the chosen domains' stories, each in a fresh database `<database>_<domain>`
    on the server at `server_url`."""
    for domain in registry.select(domains):
        out(f"\n#### {domain.name} (seed {domain.seed}): {domain.summary}")
        url = await admin.recreate_database(server_url, f"{database}_{domain.name}")
        out(f"database {redact(url)} (created fresh)")
        await asyncio.to_thread(migrations.migrate, url, out, domains=[domain.name])
        async with Database(url) as db:
            await domain.story()(db, out)
