"""Reads on a hot standby, measured: how far the standby trails a write, what a read
with a token costs over one without, planner reads per second on the primary, on
the standby and on both, and `synchronous_commit = remote_apply` (the server-side
alternative to tokens) against asynchronous replication.

Only when asked: `python -m benchmarks --replicas` adds these figures to a run, and
`python -m benchmarks.replicas [--quick | --smoke]` measures them alone. They need a
primary of their own, which the remote_apply measure reconfigures, so they make one:
a private embedded server under `.tether/bench-replicas/` and a hot standby of it
(`tether.embedded`), both removed afterwards, whatever `$DATABASE_URL` says.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
import attrs
from attrs import frozen

from tether import Database, NotFound, ReplicaPolicy, admin, embedded, migrations
from tether.catalog import Q
from tether.planner import DayPlan, NewTask, PlanRepository, SubjectRepository, UserRepository

from .harness import Figure, Progress, rotated
from .report import figures_table

DOMAIN = "planner"  # the reads measured are the planner's
ROUNDS = 3  # throughput runs per configuration, taking turns


@frozen
class Sizes:
    pairs: int  # write-then-read pairs, for the lag and the read costs
    readers: int  # users whose calendars the throughput runs read
    clients: int  # concurrent readers (tasks in this one process)
    seconds: float  # per throughput run
    writes: int  # commits timed for the remote_apply comparison


SIZES = {
    "full": Sizes(pairs=2000, readers=50, clients=8, seconds=10.0, writes=1000),
    "quick": Sizes(pairs=500, readers=50, clients=8, seconds=3.0, writes=300),
    "smoke": Sizes(pairs=20, readers=3, clients=2, seconds=0.2, writes=10),
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@asynccontextmanager
async def primary_and_standby(
    progress: Progress,
) -> AsyncIterator[tuple[str, embedded.EmbeddedStandby]]:
    """A private primary with the planner migrated into `tether_bench_replicas`, and a
    hot standby of it."""
    folder = embedded.home() / "bench-replicas"
    started = time.monotonic()
    with embedded.scratch_server(folder) as server_url:
        url = await admin.recreate_database(server_url, "tether_bench_replicas")
        await asyncio.to_thread(migrations.migrate, url, domains=[DOMAIN])
        standby = await asyncio.to_thread(embedded.standby, url, folder / "standby")
        try:
            progress(f"primary and standby ready in {time.monotonic() - started:.1f} s")
            yield url, standby
        finally:
            await asyncio.to_thread(standby.remove)


async def load_readers(db: Database, count: int) -> list[int]:
    """Users with 5 subjects and a week's generation of 5 tasks a day each."""
    ids = []
    for n in range(count):
        user = await UserRepository(db).create(f"reader{n}@bench.test")
        subjects = [(await SubjectRepository(db).create(user.id, f"s{s}")).id for s in range(5)]
        week = [
            DayPlan(
                dt.date(2026, 1, 5) + dt.timedelta(days=d),
                [NewTask(subjects[t], f"task {d}.{t}", 1 + t, 1 + d) for t in range(5)],
            )
            for d in range(7)
        ]
        await PlanRepository(db).create_generation(user.id, week)
        ids.append(user.id)
    return ids


async def lag_and_costs(db: Database, standby_url: str, sizes: Sizes) -> list[Figure]:
    """Per write: how long until the standby has replayed it, whether a read without a
    token right after it misses it, and what each kind of read costs."""
    users = UserRepository(db)
    watcher = await asyncpg.connect(standby_url)
    lags, token_us, fresh_us, blind_us, replayed_us = [], [], [], [], []
    missed = 0
    try:
        for n in range(sizes.pairs):
            written = await users.create(f"pair{n}@bench.test")
            start = time.perf_counter()
            token = await db.token()
            token_us.append((time.perf_counter() - start) * 1e6)
            while (await watcher.fetchval(Q.replayed_lsn.sql) or 0) < token.lsn:
                pass  # polled as fast as the round trips go
            lags.append((time.perf_counter() - start) * 1e3)

            blind = await users.create(f"blind{n}@bench.test")
            start = time.perf_counter()
            try:
                await UserRepository(db.replica()).get(blind.id)
            except NotFound:
                missed += 1
            blind_us.append((time.perf_counter() - start) * 1e6)

            fresh = await users.create(f"fresh{n}@bench.test")
            token = await db.token()
            start = time.perf_counter()
            assert await UserRepository(db.replica(token)).get(fresh.id) == fresh
            fresh_us.append((time.perf_counter() - start) * 1e6)

            start = time.perf_counter()  # a token the standby is known to have replayed
            assert await UserRepository(db.replica(token)).get(written.id) == written
            replayed_us.append((time.perf_counter() - start) * 1e6)
    finally:
        await watcher.close()
    return [
        Figure(
            DOMAIN,
            "replicas.lag",
            "a write's commit to its replay on the standby (from the end of the write, "
            "one token round trip included), polled without pause",
            "ms",
            {
                "median": statistics.median(lags),
                "p99": percentile(lags, 0.99),
                "max": max(lags),
            },
            note=f"{sizes.pairs} writes",
        ),
        Figure(
            DOMAIN,
            "replicas.stale",
            "reads on the standby, without a token, right after the write they look for",
            "reads",
            {"missed": float(missed), "of": float(sizes.pairs)},
            goal="none missed with a token (tests/reliability/test_standby.py)",
        ),
        Figure(
            DOMAIN,
            "replicas.read_cost",
            "UserRepository.get on the standby right after a write: without a token; with "
            "a fresh one (the wait for replay included); with one already replayed; and "
            "db.token() itself, on the primary",
            "µs",
            {
                "no token": statistics.median(blind_us),
                "fresh token": statistics.median(fresh_us),
                "fresh p99": percentile(fresh_us, 0.99),
                "replayed token": statistics.median(replayed_us),
                "db.token()": statistics.median(token_us),
            },
            note="medians",
        ),
    ]


async def reads_per_second(
    read: Callable[[int, int], Awaitable[Any]], clients: int, seconds: float, users: list[int]
) -> float:
    done = 0
    stop = time.monotonic() + seconds

    async def client(number: int) -> None:
        nonlocal done
        turn = number
        while time.monotonic() < stop:
            await read(number, users[turn % len(users)])
            turn += clients
            done += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return done / seconds


async def throughput(db: Database, users: list[int], sizes: Sizes) -> Figure:
    """latest_calendar reads per second: all on the primary, all on the standby, and
    half the clients on each."""
    primary, standby = PlanRepository(db), PlanRepository(db.replica())

    async def on_primary(client: int, user: int) -> Any:
        return await primary.latest_calendar(user)

    async def on_standby(client: int, user: int) -> Any:
        return await standby.latest_calendar(user)

    async def on_both(client: int, user: int) -> Any:
        return await (primary if client % 2 else standby).latest_calendar(user)

    runs = {"primary": on_primary, "standby": on_standby, "both": on_both}
    for read in runs.values():
        await reads_per_second(read, sizes.clients, min(0.2, sizes.seconds), users)  # warm
    # In rounds, each taking its turn first: load from elsewhere on the machine falls
    # on all three alike.
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for turn in range(ROUNDS):
        for name in rotated(list(runs), turn):
            rate = await reads_per_second(runs[name], sizes.clients, sizes.seconds / ROUNDS, users)
            rates[name].append(rate)
    return Figure(
        DOMAIN,
        "replicas.throughput",
        f"PlanRepository.latest_calendar (a week, 35 tasks), {sizes.clients} concurrent "
        "clients in one Python process: on the primary, on the standby, half on each",
        "reads/s",
        {name: statistics.mean(found) for name, found in rates.items()},
        note="2 shared cores run the client and both servers: the client saturates first",
    )


async def remote_apply(url: str, standby: embedded.EmbeddedStandby, sizes: Sizes) -> Figure:
    """Commit latency of insert_user with asynchronous replication (synchronous_commit
    local) and with remote_apply (COMMIT returns once the standby has applied it), and
    reads without a token that miss under remote_apply."""
    admin_conn = await asyncpg.connect(url)
    try:
        await admin_conn.execute("alter system set synchronous_standby_names = '*'")
        await admin_conn.execute("select pg_reload_conf()")
        for _ in range(200):  # the standby turns synchronous within moments
            synchronous = await admin_conn.fetchval(
                "select count(*) from pg_stat_replication where sync_state = 'sync'"
            )
            if synchronous:
                break
            await asyncio.sleep(0.05)
    finally:
        await admin_conn.close()
    modes = ("local", "remote_apply")
    timings: dict[str, list[float]] = {mode: [] for mode in modes}
    missed = 0
    async with AsyncExitStack() as stack:
        dbs = {
            mode: await stack.enter_async_context(
                Database(url, replicas=[standby.url], server_settings={"synchronous_commit": mode})
            )
            for mode in modes
        }
        for n in range(sizes.writes):
            for mode in rotated(list(modes), n):  # one after the other, in turns
                db = dbs[mode]
                start = time.perf_counter()
                written = await UserRepository(db).create(f"{mode}{n}@bench.test")
                timings[mode].append((time.perf_counter() - start) * 1e6)
                if mode == "remote_apply":
                    try:
                        await UserRepository(db.replica()).get(written.id)
                    except NotFound:
                        missed += 1
    return Figure(
        DOMAIN,
        "replicas.remote_apply",
        "insert_user commit latency, asynchronous replication (synchronous_commit = local) "
        "against remote_apply (COMMIT returns once the standby has applied it)",
        "µs",
        {
            "local": statistics.median(timings["local"]),
            "local p99": percentile(timings["local"], 0.99),
            "remote_apply": statistics.median(timings["remote_apply"]),
            "remote_apply p99": percentile(timings["remote_apply"], 0.99),
        },
        note=f"{sizes.writes} commits each; after remote_apply commits, {missed} of "
        f"{sizes.writes} reads without a token missed",
        goal="reads after a remote_apply commit never miss",
        met=missed == 0,
    )


async def figures(mode: str, progress: Progress) -> list[Figure]:
    """Every replica figure, on a private primary and standby made for the purpose."""
    sizes = SIZES[mode]
    async with primary_and_standby(progress) as (url, standby):
        # A wait far above the lag: each token read is measured on the standby.
        policy = ReplicaPolicy(wait=10)
        async with Database(url, replicas=[standby.url], replica_policy=policy) as db:
            readers = await load_readers(db, sizes.readers)
            await UserRepository(db.replica(await db.token(), wait=60)).get(readers[-1])
            found = await lag_and_costs(db, standby.url, sizes)
            progress("replicas: lag and read costs measured")
            found.append(await throughput(db, readers, sizes))
            progress("replicas: throughput measured")
            assert db.read_counts.timed_out == 0, db.read_counts
        found.append(await remote_apply(url, standby, sizes))
        progress("replicas: remote_apply measured")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replicas", description=__doc__)
    modes = parser.add_mutually_exclusive_group()
    for name in ("quick", "smoke"):
        modes.add_argument(f"--{name}", action="store_const", dest="mode", const=name)
    args = parser.parse_args()
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:4.0f} s] {message}", file=sys.stderr, flush=True)

    found = asyncio.run(figures(args.mode or "full", progress))
    print("\n".join(figures_table([attrs.asdict(figure) for figure in found])))


if __name__ == "__main__":
    main()
