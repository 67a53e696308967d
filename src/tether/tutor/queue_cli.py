"""`tether queue stats` and `tether queue prune`: the job queue seen and trimmed from
the command line, connected as the URL's role (unscoped: every course's jobs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from tether.database import Database
from tether.tutor.queue import JobQueue
from tether.tutor.records import QueueStats

Out = Callable[[str], None]


def stats_line(row: QueueStats) -> str:
    """One line per kind and status: `summarize pending 12 (3 scheduled), oldest due
    waits 4.2 s, attempts 0:9 1:3`."""
    line = f"{row.kind} {row.status} {row.jobs}"
    if row.scheduled:
        line += f" ({row.scheduled} scheduled)"
    if row.oldest_due_seconds is not None:
        line += f", oldest due waits {row.oldest_due_seconds:.1f} s"
    histogram = " ".join(f"{attempt}:{jobs}" for attempt, jobs in sorted(row.attempts.items()))
    return f"{line}, attempts {histogram}"


async def stats(url: str, out: Out) -> int:
    async with Database(url, min_size=1, max_size=1) as db:
        rows = await JobQueue(db).stats()
    for row in rows:
        out(stats_line(row))
    if not rows:
        out("tutor.jobs: no jobs")
    return 0


async def prune(url: str, days: float, batch: int, out: Out) -> int:
    async with Database(url, min_size=1, max_size=1) as db:
        deleted = await JobQueue(db).prune(dt.timedelta(days=days), batch=batch)
    out(f"tutor.jobs: {deleted} finished job(s) older than {days:g} day(s) pruned")
    return 0
