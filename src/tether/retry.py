"""Run a whole transaction again when the database ended it with a retryable error.

PostgreSQL ends a SERIALIZABLE (or REPEATABLE READ) transaction with a
serialization failure (40001) when letting it commit could give a result no
serial order would; any transaction can be picked as a deadlock's victim
(40P01). Neither committed anything, and the remedy is to run the transaction
again from its first read. `retry` does that, a bounded number of times, with
exponential backoff and full jitter so that contenders spread out instead of
colliding again::

    async def enrol(conn: asyncpg.Connection) -> Subject:
        taken = await SubjectRepository(conn).of_student(student_id)   # read ...
        return await SubjectRepository(conn).create(student_id, next_name(taken))  # ... then write

    subject = await retry(enrol, db, isolation="serializable", attempts=5)

`work` runs once per attempt, each time in a new transaction on a pooled
connection: keep effects outside the database (e-mails, HTTP calls) out of it.
A lost connection is retried too while the transaction was still running, but
not when it broke during COMMIT, because then the transaction may have
committed; that ConnectionLost reaches the caller.

Where it is used: every operation that reads and then writes in several
statements and relies on SERIALIZABLE to stay correct. The planner has none
(a whole generation is one statement, atomic by itself); the domains still to
come (study topics reordered in one transaction, tickets with dependency
checks, services composing several repository calls) use it there.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from tether.database import Database, Isolation
from tether.errors import ConnectionLost, Retryable

log = logging.getLogger("tether.retry")

T = TypeVar("T")


def backoff(attempt: int, base_delay: float, max_delay: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): "full jitter",
    uniform between 0 and base_delay * 2**(attempt - 1), capped at max_delay."""
    ceiling = min(max_delay, base_delay * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)


async def retry(
    work: Callable[[asyncpg.Connection], Awaitable[T]],
    db: Database,
    *,
    isolation: Isolation = "serializable",
    readonly: bool = False,
    attempts: int = 5,
    base_delay: float = 0.01,
    max_delay: float = 0.5,
) -> T:
    """Run `work(conn)` in a transaction, again on a Retryable error; return its result.

    After `attempts` failed attempts the last error is raised. Any other error
    (Conflict, InvalidValue, ...) is raised at once: running again would not help.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 1
    while True:
        committing = False
        try:
            async with db.transaction(isolation=isolation, readonly=readonly) as conn:
                result = await work(conn)
                committing = True
            return result
        except Retryable as error:
            in_doubt = committing and isinstance(error, ConnectionLost)
            if in_doubt or attempt >= attempts:
                raise
            pause = backoff(attempt, base_delay, max_delay)
            log.info("attempt %d of %d: %s; again in %.3fs", attempt, attempts, error, pause)
        await asyncio.sleep(pause)
        attempt += 1
