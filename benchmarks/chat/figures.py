"""The chat domain's figures: measures other than the four contenders' latencies, each
taken in a database of its own (common and chat migrated, nothing else running in it).

- append_with_counters: appends per second by one writer, each in its own transaction,
  with the trigger that counts messages into their conversation and with the same
  insert without it (the trigger disabled), in alternating blocks. Goal: the trigger
  costs at most 25 %.
- hot_conversation: eight writers appending at once, all to one conversation (whose
  row the counting trigger updates, so they queue on its lock until each commits),
  against each writer on a conversation of its own, and the hot case without the
  trigger. Reported, no goal: it says what one very busy conversation costs.
- deep_page: a page of 100 messages 100,000 deep, by keyset (tether's
  MessageRepository.page_of_conversation with the cursor a client holds there), by OFFSET (the same
  query with OFFSET, bare asyncpg), and through the SQLAlchemy ORM as the seed would
  page (offset/limit). Goal: keyset at least 100 times faster than OFFSET in the
  database, where the two strategies differ (EXPLAIN ANALYZE's execution time, timing
  off). End to end, each page also carries one round trip and 100 rows to decode,
  the same for both, which bounds that ratio far lower; it is reported beside.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from attrs import frozen
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from tether import admin, paging
from tether.chat import MessageRepository
from tether.chat.repositories import Q
from tether.database import init_connection

from ..harness import Figure, Progress, rotated
from . import fixtures
from .fixtures import B
from .orm import mapped

SEED = mapped(passive_deletes=False)
CONTENT = "how long should I rest after a run?"
PAGE = 100
WRITERS = 8
COST_GOAL = 0.25
DEPTH_GOAL = 100
EXPLAIN = "explain (analyze, timing off, format json) "


@frozen
class FigureSizes:
    depth: int  # messages before the deep page
    blocks: int  # alternating blocks per variant, in the append measure
    appends: int  # appends per block
    hot_appends: int  # appends per writer, in the hot-conversation measure
    keyset_runs: int  # deep pages read by keyset (their median counts)
    offset_runs: int  # deep pages read by OFFSET, and through the ORM


async def _connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


@asynccontextmanager
async def _database(server_url: str, figure: str) -> AsyncIterator[str]:
    name = f"tether_bench_chat_{figure}_{os.getpid()}"
    async with admin.scratch_database(server_url, name, migrated=True, domains=["chat"]) as url:
        yield url


async def _conversations(conn: asyncpg.Connection, count: int) -> list[uuid.UUID]:
    [user] = await fixtures.users(conn, [f"figure-{uuid.uuid4()}@bench.test"])
    return (await fixtures.conversations(conn, [user], count))[user]


async def _append(conn: asyncpg.Connection, conversation_id: uuid.UUID, count: int) -> None:
    """`count` appends, each its own transaction, with the SQL tether sends."""
    for _ in range(count):
        await conn.fetchrow(Q.insert_message.sql, conversation_id, "user", CONTENT, "sent", {})


async def _rate(messages: int, work: Awaitable[Any]) -> float:
    start = time.perf_counter()
    await work
    return messages / (time.perf_counter() - start)


async def append_with_counters(url: str, sizes: FigureSizes, goals: bool) -> Figure:
    conn = await _connect(url)
    try:
        [conversation_id] = await _conversations(conn, 1)
        await _append(conn, conversation_id, sizes.appends // 10)  # warm-up
        # Short blocks, the two variants side by side in turns, so that load from
        # elsewhere on the machine falls on both; the cost is taken per pair of blocks.
        rates: dict[str, list[float]] = {"with": [], "without": []}
        for block in range(sizes.blocks):
            for variant in rotated(["with", "without"], block):
                toggle = B.enable_counting if variant == "with" else B.disable_counting
                await conn.execute(toggle.sql)
                work = _append(conn, conversation_id, sizes.appends)
                rates[variant].append(await _rate(sizes.appends, work))
        await conn.execute(B.enable_counting.sql)
    finally:
        await conn.close()
    counted, bare = (statistics.median(rates[v]) for v in ("with", "without"))
    cost = statistics.median(
        1 - with_ / without for with_, without in zip(rates["with"], rates["without"], strict=True)
    )
    return Figure(
        domain="chat",
        name="append_with_counters",
        what=(
            "appends per second, one writer, each its own transaction: with the trigger "
            "that keeps messages_count and last_message_at, and without it"
        ),
        unit="messages/s",
        values={"with the counting trigger": counted, "without it": bare},
        goal=f"the trigger costs at most {COST_GOAL:.0%}",
        met=cost <= COST_GOAL if goals else None,
        note=(
            f"the trigger costs {cost:.1%} (median over {sizes.blocks} pairs of blocks of "
            f"{sizes.appends} appends)"
        ),
    )


async def hot_conversation(url: str, sizes: FigureSizes) -> Figure:
    writers = [await _connect(url) for _ in range(WRITERS)]
    try:
        setup = writers[0]
        hot, *_ = spread = await _conversations(setup, WRITERS)

        async def together(targets: list[uuid.UUID]) -> float:
            work = asyncio.gather(
                *(
                    _append(conn, target, sizes.hot_appends)
                    for conn, target in zip(writers, targets, strict=True)
                )
            )
            return await _rate(WRITERS * sizes.hot_appends, work)

        await together(spread)  # warm-up
        rates: dict[str, list[float]] = {"hot": [], "spread": [], "bare": []}
        for block in range(2):
            for variant in rotated(["hot", "spread", "bare"], block):
                if variant == "bare":
                    await setup.execute(B.disable_counting.sql)
                targets = spread if variant == "spread" else [hot] * WRITERS
                rates[variant].append(await together(targets))
                await setup.execute(B.enable_counting.sql)
    finally:
        for conn in writers:
            await conn.close()
    one, eight, bare = (statistics.median(rates[v]) for v in ("hot", "spread", "bare"))
    return Figure(
        domain="chat",
        name="hot_conversation",
        what=(
            f"{WRITERS} writers appending at once, each append its own transaction: all to "
            "one conversation, each to its own, and all to one without the counting trigger"
        ),
        unit="messages/s",
        values={
            "one conversation": one,
            f"{WRITERS} conversations": eight,
            "one conversation, no trigger": bare,
        },
        note=(
            f"one hot conversation runs at {one / eight:.0%} of the spread throughput: "
            "its writers queue on the conversation's row lock until each commits"
        ),
    )


async def _executed_us(conn: asyncpg.Connection, runs: int, sql: str, *args: Any) -> float:
    """The database's own time for a query, median of `runs` (EXPLAIN ANALYZE, timing off,
    so that no clock is read per row)."""
    times = []
    for _ in range(runs):
        plan = await conn.fetchval(EXPLAIN + sql, *args)
        times.append(plan[0]["Execution Time"] * 1000)
    return statistics.median(times)


async def _median_us(runs: int, read: Callable[[], Awaitable[Any]]) -> float:
    await read()  # warm-up: statement caches, compiled SQL
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        await read()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


async def deep_page(url: str, sizes: FigureSizes, goals: bool) -> Figure:
    conn = await _connect(url)
    engine = create_async_engine(
        "postgresql+asyncpg://", async_creator=lambda: asyncpg.connect(url), pool_size=1
    )
    try:
        [conversation_id] = await _conversations(conn, 1)
        await fixtures.messages(conn, conversation_id, sizes.depth + PAGE)
        await conn.execute("analyze chat.messages")
        anchor = await conn.fetchrow(B.message_at.sql, conversation_id, sizes.depth - 1)
        cursor = paging.encode([anchor["created_at"], anchor["id"]])
        messages = MessageRepository(conn)
        expected = (
            await messages.page_of_conversation(conversation_id, limit=PAGE, after=cursor)
        ).items
        offset_rows = await conn.fetch(
            B.messages_offset_page.sql, conversation_id, sizes.depth, PAGE
        )
        assert [m.id for m in expected] == [r["id"] for r in offset_rows]
        Message = SEED.Message
        session = async_sessionmaker(bind=engine)
        seed_page = (
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at)
            .offset(sizes.depth)
            .limit(PAGE)
        )

        async def orm() -> object:
            async with session() as s:
                return (await s.scalars(seed_page)).all()

        keyset = await _median_us(
            sizes.keyset_runs,
            lambda: messages.page_of_conversation(conversation_id, limit=PAGE, after=cursor),
        )
        offset = await _median_us(
            sizes.offset_runs,
            lambda: conn.fetch(B.messages_offset_page.sql, conversation_id, sizes.depth, PAGE),
        )
        through_orm = await _median_us(sizes.offset_runs, orm)
        keyset_db = await _executed_us(
            conn,
            sizes.keyset_runs,
            Q.messages_page.sql,
            conversation_id,
            anchor["created_at"],
            anchor["id"],
            PAGE + 1,
        )
        offset_db = await _executed_us(
            conn, sizes.offset_runs, B.messages_offset_page.sql, conversation_id, sizes.depth, PAGE
        )
    finally:
        await engine.dispose()
        await conn.close()
    ratio = offset_db / keyset_db
    return Figure(
        domain="chat",
        name="deep_page",
        what=(
            f"a page of {PAGE} messages {sizes.depth:,} deep: by keyset and by OFFSET, the "
            "database's execution time; then end to end: keyset "
            "(L, MessageRepository.page_of_conversation), "
            "OFFSET (F, the same query), the ORM as the seed would page (O1, offset/limit)"
        ),
        unit="µs",
        values={
            "keyset in the database": keyset_db,
            "OFFSET in the database": offset_db,
            "keyset (L)": keyset,
            "OFFSET (F)": offset,
            "ORM OFFSET (O1)": through_orm,
        },
        goal=f"keyset at least {DEPTH_GOAL}x faster than OFFSET in the database",
        met=ratio >= DEPTH_GOAL if goals else None,
        note=(
            f"in the database OFFSET takes {ratio:,.0f}x the keyset page; end to end "
            f"{offset / keyset:,.0f}x, the ORM {through_orm / keyset:,.0f}x"
        ),
    )


async def measure(
    server_url: str, sizes: FigureSizes, *, goals: bool, progress: Progress
) -> list[Figure]:
    """Every chat figure, each in a database of its own; `goals` judged unless told not to
    (a smoke run's tiny sizes say nothing)."""
    found = []
    async with _database(server_url, "append") as url:
        found.append(await append_with_counters(url, sizes, goals))
    progress(f"chat figure: {found[-1].note}")
    async with _database(server_url, "hot") as url:
        found.append(await hot_conversation(url, sizes))
    progress(f"chat figure: {found[-1].note}")
    async with _database(server_url, "deep") as url:
        found.append(await deep_page(url, sizes, goals))
    progress(f"chat figure: {found[-1].note}")
    return found
