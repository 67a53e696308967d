"""Reads sent to standbys (tether.replicas): tokens and settings, what "logged once"
means; a reader with no standby, with one that cannot be reached, with one that
accepts connections and never answers, with a server that is no standby; and, on a
real standby, replay paused to make it lag, forged tokens (one, and 200 beside 40
honest reads), 0/0, cursors and connections. The write-then-read pairs and a standby
stopped under load are in tests/reliability/test_standby.py, a standby stopped with
SIGSTOP in tests/reliability/test_standby_stalls.py."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from attrs import frozen

from test_readme import example, run_example
from tether import (
    Database,
    InvalidValue,
    ReadOnly,
    ReplicaPolicy,
    ReplicaUnavailable,
    Token,
    embedded,
)
from tether.database import init_connection
from tether.embedded import hot_standby
from tether.queries import parse
from tether.replicas import Standby
from tether.repository import Repository

SQL = """
-- name: insert_note :one
insert into public.notes (body) values (:body) returning id, body;
-- name: get_note :one
select id, body from public.notes where id = :id;
-- name: all_notes :many
select id, body from public.notes order by id;
"""
[INSERT, GET, ALL] = parse(SQL, Path("notes.sql"), "replicas_test")


@frozen
class Note:
    id: int
    body: str


class Notes(Repository):
    INSERT_NOTE = INSERT.returning(Note)
    GET_NOTE = GET.returning(Note)
    ALL_NOTES = ALL.returning(Note)

    async def add(self, body: str) -> Note:
        return await self._returning(self.INSERT_NOTE, body=body)

    async def get(self, note_id: int) -> Note | None:
        return await self._one(self.GET_NOTE, id=note_id)

    def each(self) -> AsyncIterator[Note]:
        return self._stream(self.ALL_NOTES, prefetch=2)


CREATE = "create table public.notes (id bigint generated always as identity primary key, body text)"
UNREACHABLE = "postgresql://app:s3cret-pw@/app?host=/nonexistent/tether-standby"


async def make_notes(db: Database) -> None:
    await db.pool.execute(CREATE)


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tether.replicas"]


# --- tokens and settings ---------------------------------------------------------------


def test_a_token_is_its_wal_position_in_postgresqls_notation():
    token = Token(0x16_B374D848)
    assert str(token) == "16/B374D848"
    assert Token.parse("16/B374D848") == Token.parse(" 16/b374d848 ") == token
    assert Token.parse(str(Token(0))) == Token(0)
    assert max(Token.parse("0/FF"), Token.parse("1/0"), Token.parse("0/100")) == Token(1 << 32)


@pytest.mark.parametrize("text", ["", "16", "16/", "/1", "x/1", "1/2/3", "123456789/0", "1 / 2"])
def test_a_token_that_is_not_a_wal_position_is_an_invalid_value(text):
    with pytest.raises(InvalidValue, match="not a WAL position"):
        Token.parse(text)


@pytest.mark.parametrize("given", [12345, b"16/B374D848", 1.5, ["16/B374D848"], True])
async def test_a_token_of_another_type_is_refused_when_the_reader_is_made(tether_db, given):
    with pytest.raises(InvalidValue, match=r"a Token, its text .* or None, not "):
        tether_db.replica(given)


@pytest.mark.parametrize("lsn", [-1, 1 << 64, "1", 1.0])
def test_a_token_holds_a_wal_position_only(lsn):
    with pytest.raises(InvalidValue, match="WAL position"):
        Token(lsn)
    assert Token((1 << 64) - 1).lsn == (1 << 64) - 1


def test_standbys_come_from_the_environment_with_the_primary(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://h/app")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgresql://s1/app  postgresql://s2/app")
    assert Database().replica_urls == ["postgresql://s1/app", "postgresql://s2/app"]
    # A primary named in code takes the standbys named in code, not the environment's.
    assert Database("postgresql://other/db").replica_urls == []
    assert Database("postgresql://other/db", replicas=["postgresql://s3/db"]).replica_urls == [
        "postgresql://s3/db"
    ]
    shown = repr(Database("postgresql://h/app", replicas=[UNREACHABLE]))
    assert "s3cret-pw" not in shown and "app:***@" in shown


def test_a_standby_outage_is_logged_once_until_a_read_begun_after_it_succeeds(caplog):
    """ "Logged once" means once per outage: down or behind, for one reason after
    another, is one WARNING; it ends (one INFO) only when a read that began after the
    standby was last marked succeeds on it. A read begun before the mark, which ends
    well a moment after it (the race that logged twice under load), ends nothing."""
    caplog.set_level(logging.INFO, logger="tether.replicas")
    standby = Standby("s1", ReplicaPolicy(), init_connection)
    began_before = standby.outages
    standby.down("lost during a read (administrator command)")
    standby.serving(began_before)  # that read began before the outage
    assert standby.state == "down"
    standby.down("cannot connect (shutting down)")
    standby.behind("it had not replayed 0/1 after 0.25 s")
    began_after = standby.outages
    standby.serving(began_after)
    assert standby.state == "up"
    standby.behind("3 s behind (limit 1 s)")  # a new outage: a new line
    assert [(r.levelname, r.getMessage().split(":")[1].strip()) for r in caplog.records] == [
        (
            "WARNING",
            "lost during a read (administrator command); reads go elsewhere, and it is "
            "tried again every 5 s",
        ),
        ("INFO", "serving reads again"),
        (
            "WARNING",
            "3 s behind (limit 1 s); reads go elsewhere, and it is skipped until it catches up",
        ),
    ]


# --- a reader without a usable standby ---------------------------------------------------


async def test_without_a_standby_reads_run_read_only_on_the_primary(tether_db):
    await make_notes(tether_db)
    note = await Notes(tether_db).add("hello")
    for reader in (tether_db.replica(), tether_db.replica(await tether_db.token())):
        assert await Notes(reader).get(note.id) == note
    assert await Notes(tether_db.replica(fallback="raise")).get(note.id) == note
    assert tether_db.read_counts.primary == 3

    with pytest.raises(ReadOnly) as refused:
        await Notes(tether_db.replica()).add("a write sent to the standbys")
    assert refused.value.sqlstate == "25006"
    assert "db.replica()" in str(refused.value)
    assert [n.body async for n in Notes(tether_db.replica()).each()] == ["hello"]
    assert await tether_db.pool.fetchval("select count(*) from public.notes") == 1


async def test_an_unreachable_standby_is_skipped_and_logged_once(tether_url, caplog):
    caplog.set_level(logging.INFO, logger="tether.replicas")
    policy = ReplicaPolicy(retry_after=0.01)
    async with Database(tether_url, replicas=[UNREACHABLE], replica_policy=policy) as db:
        await make_notes(db)
        note = await Notes(db).add("kept")
        for _ in range(20):  # the standby is tried again on most of these: still one line
            assert await Notes(db.replica(await db.token())).get(note.id) == note
        assert db.read_counts.primary == 20 and db.read_counts.standby == 0
        with pytest.raises(ReplicaUnavailable, match=r"app:\*\*\*@.* is down \(cannot connect"):
            await Notes(db.replica(fallback="raise")).get(note.id)
    [line] = warnings_of(caplog)
    assert "cannot connect" in line and "tried again every" in line
    assert "s3cret-pw" not in caplog.text


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A URL whose server accepts connections and never says a word: a host that is
    reachable but stalled (a standby stopped with SIGSTOP answers the same way)."""
    accepted: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql://app:s3cret-pw@127.0.0.1:{port}/app"
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_standby_that_accepts_and_never_answers_is_skipped(tether_url, caplog):
    """It used to fail every read with PoolExhausted after connect_timeout, forever."""
    caplog.set_level(logging.INFO, logger="tether.replicas")
    policy = ReplicaPolicy(connect_timeout=0.3, retry_after=0.2)
    async with (
        silent_server() as silent,
        Database(tether_url, replicas=[silent], replica_policy=policy) as db,
    ):
        await make_notes(db)
        note = await Notes(db).add("kept")
        started = time.monotonic()
        for n in range(6):  # the standby is tried again on some of these: still one line
            token = await db.token() if n % 2 else None
            assert await Notes(db.replica(token)).get(note.id) == note
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        assert db.read_counts.primary == 6 and db.read_counts.standby == 0
        with pytest.raises(ReplicaUnavailable, match=r"is down \(cannot connect"):
            await Notes(db.replica(fallback="raise")).get(note.id)
    # Each attempt costs one connect_timeout; 0.3 s for the first, at most one more.
    assert elapsed < 6 * policy.connect_timeout, elapsed
    [line] = warnings_of(caplog)
    assert "did not answer a new connection" in line and "tried again every" in line
    assert "db.transaction()" not in caplog.text and "s3cret-pw" not in caplog.text


async def test_a_server_that_is_no_standby_is_not_read_from(tether_url, caplog):
    async with Database(tether_url, replicas=[tether_url]) as db:  # the primary itself
        await make_notes(db)
        note = await Notes(db).add("kept")
        assert await Notes(db.replica()).get(note.id) == note
        assert await Notes(db.replica(await db.token())).get(note.id) == note
        assert db.read_counts.standby == 0
    assert "it is not a standby (not in recovery)" in warnings_of(caplog)[0]


# --- on a real standby ----------------------------------------------------------------


@asynccontextmanager
async def replay_paused(standby_server_url: str) -> AsyncIterator[None]:
    """The standby receives WAL but applies none of it until the block ends."""
    conn = await asyncpg.connect(standby_server_url)
    try:
        try:
            await conn.execute("select pg_wal_replay_pause()")
        except asyncpg.InsufficientPrivilegeError:
            pytest.skip("pausing the standby's replay needs a superuser on it")
        yield
    finally:
        await conn.execute("select pg_wal_replay_resume()")
        await conn.close()


async def test_a_token_read_waits_for_a_paused_standby_then_reads_on_the_primary(
    tether_url, tether_replica_url, tether_standby_url, caplog
):
    caplog.set_level(logging.INFO, logger="tether.replicas")
    policy = ReplicaPolicy(wait=0.1, check_every=0.05)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        await make_notes(db)
        first = await Notes(db).add("before the pause")
        assert await Notes(db.replica(await db.token())).get(first.id) == first
        assert db.read_counts.standby == 1
        async with replay_paused(tether_standby_url):
            note = await Notes(db).add("written while replay is paused")
            token = await db.token()
            assert await Notes(db.replica(token)).get(note.id) == note
            assert (db.read_counts.timed_out, db.read_counts.primary) == (1, 1)
            with pytest.raises(ReplicaUnavailable, match="behind"):
                await Notes(db.replica(token, fallback="raise")).get(note.id)
        await asyncio.sleep(policy.check_every)  # skipped that long, then tried again
        assert await Notes(db.replica(token, wait=5)).get(note.id) == note
        assert db.read_counts.standby == 2
    lines = warnings_of(caplog)
    assert len(lines) == 2, lines
    assert "had not replayed" in lines[0] and "serving reads again" in lines[1]


async def test_a_lagging_standby_is_skipped_by_reads_without_a_token(
    tether_url, tether_replica_url, tether_standby_url, caplog
):
    policy = ReplicaPolicy(max_lag=0.05, check_every=0.01)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        await make_notes(db)
        note = await Notes(db).add("x")
        await Notes(db.replica(await db.token(), wait=5)).get(note.id)  # replayed
        async with replay_paused(tether_standby_url):
            await Notes(db).add("received, not replayed")
            await asyncio.sleep(0.1)
            assert await Notes(db.replica()).get(note.id) == note
            assert db.read_counts.primary == 1
    assert "s behind (limit 0.05 s)" in warnings_of(caplog)[0]


async def test_a_token_ahead_of_the_primary_goes_to_the_primary_and_blames_no_standby(
    tether_url, tether_replica_url
):
    async with Database(tether_url, replicas=[tether_replica_url]) as db:
        await make_notes(db)
        note = await Notes(db).add("x")
        forged = Token((await db.token()).lsn + (1 << 40))
        assert await Notes(db.replica(str(forged), wait=5)).get(note.id) == note
        with pytest.raises(ReplicaUnavailable, match="ahead of the primary"):
            await Notes(db.replica(forged, wait=5, fallback="raise")).get(note.id)
        assert (db.read_counts.waited, db.read_counts.timed_out) == (0, 0)  # no wait at all
        assert await Notes(db.replica(await db.token())).get(note.id) == note
        assert db.read_counts.standby == 1


FORGED, HONEST = 200, 40
HONEST_READ_BOUND = 1.5  # s: the 240 reads share one process (the slowest took 150-250 ms
# here); forged tokens used to hold the standby's connections, 3 s each, for 30 s and more


async def test_forged_tokens_hold_no_standby_connection_and_slow_no_honest_read(
    tether_url, tether_replica_url, monkeypatch
):
    policy = ReplicaPolicy(wait=3)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        await make_notes(db)
        notes = [await Notes(db).add(f"note {n}") for n in range(HONEST)]
        honest = await db.token()
        ahead = honest.lsn + (1 << 36)
        took: list[float] = []
        # Every connection taken from the standby's (real) pool is counted.
        [standby] = db._standbys.standbys
        acquisitions = 0

        def counted_acquire(*args, **options):
            nonlocal acquisitions
            acquisitions += 1
            return pool_acquire(*args, **options)

        pool_acquire = standby.pool.acquire
        monkeypatch.setattr(standby.pool, "acquire", counted_acquire)

        async def forged_read(n: int) -> None:
            assert await Notes(db.replica(Token(ahead + n))).get(notes[0].id) == notes[0]

        async def honest_read(note: Note) -> None:
            started = time.monotonic()
            assert await Notes(db.replica(honest)).get(note.id) == note
            took.append(time.monotonic() - started)

        async with asyncio.timeout(60):
            await asyncio.gather(*(forged_read(n) for n in range(FORGED)), *map(honest_read, notes))
        counts = db.read_counts
    took.sort()
    print(f"[standby] honest reads beside {FORGED} forged: slowest {took[-1] * 1000:.1f} ms")
    assert took[-1] < HONEST_READ_BOUND, took[-5:]
    # Every forged read went to the primary without waiting on a standby (a wait would
    # have been counted); every honest one ran on the standby.
    assert (counts.primary, counts.standby, counts.timed_out) == (FORGED, HONEST, 0)
    assert acquisitions == HONEST  # one standby connection per honest read, none for forged


async def test_a_token_of_0_0_is_held_to_the_lag_limit(
    tether_url, tether_replica_url, tether_standby_url
):
    """0/0 asks for nothing: it must not reach a standby that lags without bound."""
    policy = ReplicaPolicy(max_lag=0.05, check_every=0.01)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        await make_notes(db)
        note = await Notes(db).add("x")
        await Notes(db.replica(await db.token(), wait=5)).get(note.id)  # replayed
        assert db.read_counts.standby == 1
        async with replay_paused(tether_standby_url):
            await Notes(db).add("received, not replayed")
            await asyncio.sleep(0.1)
            assert await Notes(db.replica("0/0")).get(note.id) == note
        assert (db.read_counts.standby, db.read_counts.primary) == (1, 1)


async def test_cursors_and_connections_of_a_reader_are_on_the_standby(tether_replicated_db):
    db = tether_replicated_db
    await make_notes(db)
    for body in "abcde":
        await Notes(db).add(body)
    reader = db.replica(await db.token())
    async with aclosing(Notes(reader).each()) as notes:
        assert [n.body async for n in notes] == list("abcde")
    async with reader.connection() as conn:
        assert await conn.fetchval("select pg_is_in_recovery()")
        assert await Notes(conn).get(1) == Note(1, "a")
    assert db.read_counts.standby == 2


def test_the_scale_out_example_runs(tether_url):
    """docs/scale-out.md's example, as a new user runs it: a standby of the server made
    for it, a read of its own write there, the standby stopped, the read on the
    primary; and no standby left behind."""
    before = set(embedded.home().glob("standby-*"))
    done = run_example(example("scale-out", "docs/scale-out.md"), tether_url)
    assert done.stdout.splitlines() == [
        "standby: True",
        "primary: True",
        "1 read on the standby, 1 on the primary",
    ]
    assert done.stderr.count("reads go elsewhere") == 1, done.stderr
    assert set(embedded.home().glob("standby-*")) == before


def test_a_standby_that_pg_ctl_cannot_stop_is_stopped_by_signal(tether_standby, monkeypatch):
    """A standby must never outlive its stop: when pg_ctl fails (the servers' user
    locked out of a folder, say), the postmaster gets the shutdown signal itself."""
    run = hot_standby._run

    def failing_stop(program, *args, **options):
        if args[:1] == ("stop",):
            raise embedded.StandbyError("pg_ctl failed: could not access directory")
        return run(program, *args, **options)

    monkeypatch.setattr(hot_standby, "_run", failing_stop)
    tether_standby.stop()
    assert not tether_standby.running
    monkeypatch.undo()
    tether_standby.start()
    assert tether_standby.running
