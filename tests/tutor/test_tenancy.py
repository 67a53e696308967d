"""The tutor's tenancy (SPEC "Tenancy"): a course is the tenant. Scoped to course A
(`db.tenant(a)`), every tutor table but the global users shows A's rows only; B's rows
cannot be read, changed, deleted or referenced; tether_service with no tenants sees no
course rows at all; the database derives course_id and keeps references inside one
course, even for a hand-written INSERT. A job whose week is gone has no course: only
unscoped workers see it, and they still claim it."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest
from attrs import define

from reliability.test_tenancy_upgrade import TABLES, roll_back_tenancy, rows
from tenancy_checks import (
    assert_isolated,
    assert_tenant_tables,
    grants,
    hand_written,
    unscoped_service,
)
from tether import Database, MissingReference, NotFound, OutOfScope, admin, migrations
from tether import domains as registry
from tether.testing import expect_changes
from tether.tutor import (
    AudioRepository,
    ChunkRepository,
    ConversationRepository,
    Course,
    CourseRepository,
    JobQueue,
    NewChunk,
    ReadingRepository,
    SummaryRepository,
    WeekRepository,
)

from .conftest import START, Course101, make_course

# Every tenant table and the column holding its course (the root: its id).
TENANT_TABLES = {
    "courses": "id",
    "weeks": "course_id",
    "readings": "course_id",
    "jobs": "course_id",
    "chunks": "course_id",
    "summaries": "course_id",
    "conversations": "course_id",
    "audio_blobs": "course_id",
}


@define
class TwoCourses:
    """Ada's ML-101 (course A, conftest's whole tree) and her ML-202 (course B, a whole
    tree too), taught to the same global users."""

    a: Course101
    b: Course
    b_week: int
    b_reading: int
    b_talk: int


async def counts(conn: asyncpg.Connection, course_id: int | None = None) -> dict[str, int]:
    """Rows per tenant table that `conn` sees; with `course_id`, only that course's."""
    counted = {}
    for table, key in TENANT_TABLES.items():
        where = f"where {key} = $1" if course_id is not None else "where $1::bigint is null"
        counted[table] = await conn.fetchval(
            f"select count(*) from tutor.{table} {where}", course_id
        )
    return counted


@pytest.fixture
async def two(tether_db: Database) -> TwoCourses:
    a = await make_course(tether_db)
    b = await CourseRepository(tether_db).create(a.ada.id, "Deep Learning", "ML-202")
    week = await WeekRepository(tether_db).create(b.id, 1, "Backpropagation")
    reading = await ReadingRepository(tether_db).create(week.id, "b1.pdf", "/files/b1.pdf")
    await ChunkRepository(tether_db).write(reading.id, [NewChunk(i, f"b {i}") for i in range(3)])
    await SummaryRepository(tether_db).create(week.id, a.ada.id, "Backprop, in short.")
    talk = await ConversationRepository(tether_db).start(a.ben.id, week.id, "s-ben-b", START)
    await AudioRepository(tether_db).append(talk.id, b"\x01" * 10, duration_ms=5)
    await JobQueue(tether_db).enqueue("summarize", week.id)
    return TwoCourses(a, b, week.id, reading.id, talk.id)


async def test_every_table_but_users_is_a_tenant_table_with_only_the_grants_it_needs(
    tether_db,
):
    await assert_tenant_tables(tether_db, "tutor", TENANT_TABLES)
    assert await grants(tether_db, "tutor") == {
        "users": ["DELETE", "INSERT", "SELECT", "UPDATE"],
        "courses": ["DELETE", "INSERT", "SELECT", "UPDATE"],
        "weeks": ["DELETE", "INSERT", "SELECT"],
        "readings": ["DELETE", "INSERT", "SELECT"],
        "jobs": ["INSERT", "SELECT", "UPDATE"],
        "chunks": ["DELETE", "INSERT", "SELECT"],
        "summaries": ["DELETE", "INSERT", "SELECT", "UPDATE"],
        "conversations": ["DELETE", "INSERT", "SELECT", "UPDATE"],
        "audio_blobs": ["INSERT", "SELECT"],
    }


async def test_scoped_to_a_course_every_table_shows_exactly_its_rows(two):
    db = two.a.db
    await assert_isolated(db, "tutor", TENANT_TABLES, two.a.course.id, two.b.id)
    async with db.tenant(two.a.course.id) as conn:
        # users are global: every account, whatever course they take.
        assert await conn.fetchval("select count(*) from tutor.users") == 3


async def test_another_courses_rows_cannot_be_read_changed_or_deleted(two):
    db = two.a.db
    async with db.tenant(two.a.course.id) as conn:
        with pytest.raises(NotFound):
            await CourseRepository(conn).get(two.b.id)
        with pytest.raises(NotFound):
            await WeekRepository(conn).get(two.b_week)
        with pytest.raises(NotFound):
            await ReadingRepository(conn).get(two.b_reading)
        with pytest.raises(NotFound):
            await ConversationRepository(conn).get(two.b_talk)
        assert await ChunkRepository(conn).of_reading(two.b_reading) == []
        assert await SummaryRepository(conn).of_week(two.b_week) == []
        assert await AudioRepository(conn).of_conversation(two.b_talk) == []
        assert await JobQueue(conn).of_week(two.b_week) == []
        changes = {"courses": "name", "jobs": "kind", "summaries": "content"}
        for table, column in {**changes, "conversations": "session_id"}.items():
            key = TENANT_TABLES[table]
            done = await conn.execute(
                f"update tutor.{table} set {column} = {column} || '!' where {key} = $1",
                two.b.id,
            )
            assert done == "UPDATE 0", table
        for table in ("courses", "weeks", "readings", "chunks", "summaries", "conversations"):
            key = TENANT_TABLES[table]
            done = await conn.execute(f"delete from tutor.{table} where {key} = $1", two.b.id)
            assert done == "DELETE 0", table
        assert not await CourseRepository(conn).delete(two.b.id)
        assert not await WeekRepository(conn).delete(two.b_week)
    async with db.connection() as conn:
        assert all((await counts(conn, two.b.id)).values())


async def test_another_courses_rows_cannot_be_referenced(two):
    db = two.a.db
    # A week names its course itself: the policy refuses another course's.
    async with db.tenant(two.a.course.id) as conn:
        with pytest.raises(OutOfScope, match="outside this transaction's scope") as refused:
            await WeekRepository(conn).create(two.b.id, 9)
        assert refused.value.table == "tutor.weeks"
    # Below a week, the course comes from the parent, which this course cannot see.
    refusals = [
        (lambda c: ReadingRepository(c).create(two.b_week, "x.pdf", "/x"), "readings_week_id_fkey"),
        (lambda c: JobQueue(c).enqueue("summarize", two.b_week), "jobs_week_id_fkey"),
        (
            lambda c: ChunkRepository(c).write(two.b_reading, [NewChunk(9, "x")]),
            "chunks_reading_id_fkey",
        ),
        (
            lambda c: SummaryRepository(c).create(two.b_week, two.a.ada.id, "x"),
            "summaries_week_id_fkey",
        ),
        (
            lambda c: ConversationRepository(c).start(two.a.cy.id, two.b_week, "s-x", START),
            "conversations_week_id_fkey",
        ),
        (
            lambda c: AudioRepository(c).append(two.b_talk, b"\x01"),
            "audio_blobs_conversation_id_fkey",
        ),
    ]
    for write, constraint in refusals:
        async with db.tenant(two.a.course.id) as conn:
            with pytest.raises(MissingReference) as refused:
                await write(conn)
            assert refused.value.constraint == constraint
    async with db.connection() as conn:
        assert await counts(conn, two.b.id) == {
            "courses": 1,
            "weeks": 1,
            "readings": 1,
            "jobs": 1,
            "chunks": 3,
            "summaries": 1,
            "conversations": 1,
            "audio_blobs": 1,
        }


async def test_tether_service_without_tenants_sees_the_users_only(two):
    async with unscoped_service(two.a.db) as conn:
        assert set((await counts(conn)).values()) == {0}
        assert await conn.fetchval("select count(*) from tutor.users") == 3


async def test_a_hand_written_insert_cannot_point_into_another_course(two):
    db = two.a.db
    a = two.a.course.id
    statements = {
        "readings_week_id_fkey": (
            "insert into tutor.readings (week_id, course_id, filename, file_path) "
            "values ($1, $2, 'x.pdf', '/x')",
            two.b_week,
        ),
        "chunks_reading_id_fkey": (
            "insert into tutor.chunks (reading_id, course_id, idx, content) "
            "values ($1, $2, 99, 'x')",
            two.b_reading,
        ),
        "jobs_week_id_fkey": (
            "insert into tutor.jobs (kind, week_id, course_id) values ('x', $1, $2)",
            two.b_week,
        ),
        "audio_blobs_conversation_id_fkey": (
            "insert into tutor.audio_blobs (conversation_id, course_id, blob_data) "
            "values ($1, $2, '\\x01')",
            two.b_talk,
        ),
    }
    for constraint, (sql, b_parent) in statements.items():
        with pytest.raises(MissingReference, match="must exist") as refused:
            await hand_written(db.pool, "tutor", sql, b_parent, a)
        assert refused.value.constraint == constraint
    # A job names a week and its course, or neither.
    with pytest.raises(MissingReference):
        await hand_written(
            db.pool, "tutor", "insert into tutor.jobs (kind, course_id) values ('x', $1)", a
        )


async def test_an_insert_naming_only_the_spec_columns_gets_its_parents_course(two):
    db = two.a.db
    a = two.a
    async with db.connection() as conn:
        reading = await conn.fetchval(
            "insert into tutor.readings (week_id, filename, file_path) "
            "values ($1, 'n.pdf', '/n') returning id",
            a.week2.id,
        )
        await conn.execute(
            "insert into tutor.chunks (reading_id, idx, content) values ($1, 0, 'c')", reading
        )
        await conn.execute(
            "insert into tutor.summaries (week_id, created_by_id, content) values ($1, $2, 's')",
            a.week2.id,
            a.ada.id,
        )
        talk = await conn.fetchval(
            "insert into tutor.conversations (user_id, week_id, session_id) "
            "values ($1, $2, 's-n') returning id",
            a.cy.id,
            a.week2.id,
        )
        await conn.execute(
            "insert into tutor.audio_blobs (conversation_id, blob_data) values ($1, '\\x01')", talk
        )
        await conn.execute("insert into tutor.jobs (kind, week_id) values ('n', $1)", a.week2.id)
        keys = await conn.fetch(
            """
            select 'readings' as t, course_id from tutor.readings where id = $1
            union all select 'chunks', course_id from tutor.chunks where reading_id = $1
            union all select 'summaries', course_id from tutor.summaries where content = 's'
            union all select 'conversations', course_id from tutor.conversations where id = $2
            union all select 'audio_blobs', course_id from tutor.audio_blobs
                      where conversation_id = $2
            union all select 'jobs', course_id from tutor.jobs where kind = 'n'
            """,
            reading,
            talk,
        )
    assert {r["t"]: r["course_id"] for r in keys} == dict.fromkeys(
        ("readings", "chunks", "summaries", "conversations", "audio_blobs", "jobs"), a.course.id
    )


async def test_scoped_writes_through_the_repositories_get_the_course(two):
    db = two.a.db
    a = two.a
    async with db.tenant(a.course.id) as conn:
        reading = await ReadingRepository(conn).create(a.week2.id, "s.pdf", "/s")
        assert await ChunkRepository(conn).write(reading.id, [NewChunk(0, "c"), NewChunk(1, "d")])
        job = await JobQueue(conn).enqueue("embed", a.week2.id)
    async with db.connection() as conn:
        assert await conn.fetchval(
            "select array_agg(distinct course_id) from tutor.chunks where reading_id = $1",
            reading.id,
        ) == [a.course.id]
        assert (
            await conn.fetchval("select course_id from tutor.jobs where id = $1", job.id)
            == a.course.id
        )


async def test_deleting_a_course_removes_its_tree_scoped_and_unscoped(two):
    db = two.a.db
    a = two.a
    async with (
        db.tenant(a.course.id) as conn,
        expect_changes(
            conn,
            deleted={
                "tutor.courses": 1,
                "tutor.weeks": 2,
                "tutor.readings": 1,
                "tutor.chunks": 5,
                "tutor.summaries": 1,
                "tutor.conversations": 1,
                "tutor.audio_blobs": 2,
            },
            updated={"tutor.jobs": 3},
        ),
    ):
        assert await CourseRepository(conn).delete(a.course.id)
    async with db.transaction() as conn:
        assert await counts(conn, a.course.id) == dict.fromkeys(TENANT_TABLES, 0)
        # A's jobs lost their week and so their course: only unscoped workers see them.
        assert (
            await conn.fetchval(
                "select count(*) from tutor.jobs where week_id is null and course_id is null"
            )
            == 3
        )
        async with expect_changes(
            conn,
            deleted={
                "tutor.courses": 1,
                "tutor.weeks": 1,
                "tutor.readings": 1,
                "tutor.chunks": 3,
                "tutor.summaries": 1,
                "tutor.conversations": 1,
                "tutor.audio_blobs": 1,
            },
            updated={"tutor.jobs": 1},
        ):
            assert await CourseRepository(conn).delete(two.b.id)


async def test_a_job_without_a_week_is_only_for_unscoped_workers(two):
    db = two.a.db
    queue = JobQueue(db)
    orphan = await queue.enqueue("cleanup")
    async with db.tenant(two.a.course.id) as conn:
        with pytest.raises(NotFound):
            await JobQueue(conn).get(orphan.id)
        assert await JobQueue(conn).claim(["cleanup"]) == []
    claimed = await queue.claim_one(["cleanup"])
    assert claimed is not None and claimed.id == orphan.id
    await queue.succeed(claimed)
    assert (await queue.get(orphan.id)).status == "succeeded"


@pytest.mark.reliability
async def test_a_full_course_migrates_to_tenancy_with_every_key_its_parents(tether_server_url):
    """The registry-wide upgrade test fills the tutor by its story, which deletes week 1
    and leaves readings, chunks, conversations and audio empty; here every table has rows
    (conftest's course) when tutor_0002/0003 migrate it."""
    name = f"tether_upgrade_tutor_full_{os.getpid()}"
    async with admin.scratch_database(tether_server_url, name) as url:
        await asyncio.to_thread(migrations.migrate, url, domains=["tutor"])
        async with Database(url) as db:
            course = await make_course(db)
            await JobQueue(db).enqueue("cleanup")  # no week: no course, after as before
        await asyncio.to_thread(roll_back_tenancy, url, registry.get("tutor"), "tutor_0002_tenancy")
        async with Database(url) as db:
            tables = {r[0]: r[1] for r in await db.pool.fetch(TABLES, "tutor")}
            assert "course_id" not in tables["chunks"]
            before = await rows(db, "tutor", tables)
        assert all(before.values())
        await asyncio.to_thread(migrations.migrate, url, domains=["tutor"])
        async with Database(url) as db:
            assert await rows(db, "tutor", tables) == before
            async with db.connection() as conn:
                of_course = await counts(conn, course.course.id)
                assert of_course == {
                    "courses": 1,
                    "weeks": 2,
                    "readings": 1,
                    "jobs": 3,
                    "chunks": 5,
                    "summaries": 1,
                    "conversations": 1,
                    "audio_blobs": 2,
                }
                assert (
                    await conn.fetchval(
                        "select count(*) from tutor.jobs "
                        "where course_id is null and week_id is null"
                    )
                    == 1
                )


async def test_two_scoped_copies_in_one_transaction_each_land_and_touch_no_table_of_ours(two):
    """A scoped COPY stages its rows in a temporary table the next COPY of the same
    transaction makes anew; a table of the search_path with the staging table's name
    (here public's) is never the one dropped or read."""
    db = two.a.db
    a = two.a
    async with db.connection() as conn:
        await conn.execute("create table public.tether_copy_chunks (kept text)")
        await conn.execute("insert into public.tether_copy_chunks values ('ours')")
    async with db.tenant(a.course.id) as conn:
        reading = await ReadingRepository(conn).create(a.week2.id, "t.pdf", "/t")
        chunks = ChunkRepository(conn)
        assert await chunks.write(reading.id, [NewChunk(0, "a"), NewChunk(1, "b")]) == 2
        assert await chunks.write(reading.id, [NewChunk(2, "c")]) == 1
    async with db.connection() as conn:
        assert [
            r["idx"]
            for r in await conn.fetch(
                "select idx from tutor.chunks where reading_id = $1 order by idx", reading.id
            )
        ] == [0, 1, 2]
        assert await conn.fetchval("select array_agg(kept) from public.tether_copy_chunks") == [
            "ours"
        ]
