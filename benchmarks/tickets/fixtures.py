"""Tickets fixtures written with COPY, untimed: sessions with what the aggregate loads,
and a session whose tickets form a large dependency graph.

The uuid keys are drawn here, so nothing needs reading back after a COPY. The graph's
dependencies go through the same cycle check as any write (one statement-level check
for the whole COPY).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from attrs import frozen

from tether import queries

B = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench_tickets")


async def _copy(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], records: list[tuple[object, ...]]
) -> None:
    await conn.copy_records_to_table(
        table, schema_name="tickets", columns=list(columns), records=records
    )


async def load_sessions(conn: asyncpg.Connection, count: int, files: int) -> list[uuid.UUID]:
    """Sessions with `files` uploaded files each, a task, a validation and a project
    context: what the session aggregate reads."""
    ids = [uuid.uuid4() for _ in range(count)]
    await _copy(
        conn,
        "sessions",
        ("id", "jira_user_id", "title"),
        [(s, f"jira-{n}", f"Bench session {n}") for n, s in enumerate(ids)],
    )
    await _copy(
        conn,
        "uploaded_files",
        ("session_id", "filename", "file_path", "content_type", "size_bytes"),
        [
            (s, f"doc-{f}.pdf", f"uploads/{s}/doc-{f}.pdf", "application/pdf", 10_000 + f)
            for s in ids
            for f in range(files)
        ],
    )
    await _copy(
        conn,
        "session_tasks",
        ("session_id", "status", "stage", "progress"),
        [(s, "completed", "generating tickets", 100) for s in ids],
    )
    await conn.execute(B.add_validations_and_contexts.sql, ids)
    return ids


@frozen
class Graph:
    """A session's tickets (by position) forming a dependency graph, and `loose` tickets
    of the same session that nothing depends on: a dependency from one of them can
    never close a cycle, so a scenario may add it, time it and take it away again."""

    session_id: uuid.UUID
    tickets: list[uuid.UUID]
    loose: list[uuid.UUID]
    dependencies: int


async def load_graph(
    conn: asyncpg.Connection, tickets: int, per_ticket: int, loose: int, seed: int = 4
) -> Graph:
    """`tickets` tickets where each depends on `per_ticket` random tickets placed before
    it (fewer for the first ones), then `loose` tickets with no dependency."""
    rng = random.Random(seed)  # noqa: S311 (a graph made again the same, no secret)
    session_id = uuid.uuid4()
    await _copy(conn, "sessions", ("id", "title"), [(session_id, f"Graph of {tickets}")])
    ids = [uuid.uuid4() for _ in range(tickets + loose)]
    await _copy(
        conn,
        "tickets",
        ("id", "session_id", "summary", "issue_type", "priority", "position"),
        [(t, session_id, f"Ticket {n}", "Task", "Medium", n) for n, t in enumerate(ids)],
    )
    edges = [
        (ids[n], ids[before], session_id)
        for n in range(tickets)
        for before in rng.sample(range(n), min(n, per_ticket))
    ]
    await _copy(
        conn, "ticket_dependencies", ("ticket_id", "depends_on_ticket_id", "session_id"), edges
    )
    return Graph(session_id, ids[:tickets], ids[tickets:], len(edges))


async def reach(conn: asyncpg.Connection, ticket_id: uuid.UUID) -> int:
    """How many tickets `ticket_id` depends on, directly or not."""
    found: int = await conn.fetchval(B.reach.sql, ticket_id)
    return found
