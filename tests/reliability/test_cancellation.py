"""A transaction cancelled around its COMMIT: its caller is told the truth. Cancelled
before COMMIT, nothing is committed and the caller gets CancelledError; once COMMIT
has returned, the caller gets the result (a cancel during the connection's release
is declined); a cancel that lands during COMMIT raises CommitUnknown, whose outcome
is either. Each transaction's row is then looked up with SQL of the test's own."""

import asyncio
from collections import Counter

import pytest

from tether import CommitUnknown, Database

pytestmark = pytest.mark.reliability

TRANSACTIONS = 600
LANES = 4  # transactions in flight at once
LATEST_CANCEL = 0.0015  # s after the last statement: cancels spread evenly from 0 to this

CREATE = "create table public.cancel_race (key int primary key)"


async def one_transaction(db: Database, key: int, delay: float) -> None:
    """Insert `key`, then have the task cancelled `delay` s later: during one more
    statement (odd keys), during COMMIT, during the release, or after it all."""
    task = asyncio.current_task()
    assert task is not None
    async with db.transaction() as conn:
        await conn.execute("insert into public.cancel_race values ($1)", key)
        asyncio.get_running_loop().call_later(delay, task.cancel)
        if key % 2:
            await conn.execute("select 1")


async def test_a_cancelled_transaction_commits_exactly_when_its_caller_is_told_so(
    tether_url, sql, capsys
):
    await sql.execute(CREATE)
    outcomes: dict[int, str] = {}
    async with Database(tether_url, max_size=LANES) as db:

        async def lane(first: int) -> None:
            for key in range(first, TRANSACTIONS, LANES):
                delay = LATEST_CANCEL * key / TRANSACTIONS
                task = asyncio.create_task(one_transaction(db, key, delay))
                await asyncio.wait([task])
                if task.cancelled():
                    outcomes[key] = "cancelled"
                elif isinstance(task.exception(), CommitUnknown):
                    outcomes[key] = "unknown"
                elif task.exception() is not None:
                    raise AssertionError(f"transaction {key}") from task.exception()
                else:
                    outcomes[key] = "returned"
                await asyncio.sleep(LATEST_CANCEL)  # a late cancel lands on a done task

        async with asyncio.timeout(120):
            await asyncio.gather(*(lane(first) for first in range(LANES)))
        # The pool is whole again: every connection came back (asyncpg finishes a
        # release it shields alone), and each serves a transaction.
        await asyncio.sleep(0.1)
        assert db.pool.get_idle_size() == db.pool.get_size()
        await asyncio.gather(*(one_transaction(db, -1 - n, 1.0) for n in range(LANES)))

    stored = {row["key"] for row in await sql.fetch("select key from public.cancel_race")}
    assert {-1 - n for n in range(LANES)} <= stored
    wrong = {
        key: outcome
        for key, outcome in outcomes.items()
        if (outcome == "cancelled" and key in stored)
        or (outcome == "returned" and key not in stored)
    }
    assert wrong == {}, f"{len(wrong)} callers told the wrong outcome: {sorted(wrong.items())[:10]}"
    counts = Counter(outcomes.values())
    unknown_committed = sum(1 for k, o in outcomes.items() if o == "unknown" and k in stored)
    assert sum(counts.values()) == TRANSACTIONS
    assert counts["cancelled"] > 0 and counts["returned"] > 0  # both sides were reached
    with capsys.disabled():
        print(
            f"\n[cancellation] {TRANSACTIONS} transactions cancelled 0-{LATEST_CANCEL * 1000:g} "
            f"ms after their last statement: {counts['returned']} returned (committed), "
            f"{counts['cancelled']} CancelledError (none committed), {counts['unknown']} "
            f"CommitUnknown ({unknown_committed} of them committed)"
        )
