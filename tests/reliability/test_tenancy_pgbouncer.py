"""A scoped COPY through PgBouncer's transaction pooling (issue 16): PostgreSQL refuses
COPY FROM under row-level security, so tether stages the rows when the role running is
not a superuser, which it learns from the is_superuser setting PostgreSQL reports on
every change of role. Through PgBouncer that report must still arrive: scoped writes
by COPY land with their tenant's key, and unscoped ones go straight in."""

from urllib.parse import urlsplit

import pytest

from tether import Database
from tether.tutor import (
    ChunkRepository,
    CourseRepository,
    JobQueue,
    NewChunk,
    NewJob,
    ReadingRepository,
    UserRepository,
    WeekRepository,
)

pytestmark = pytest.mark.reliability


async def test_scoped_copies_through_pgbouncer_land_with_their_course(pgbouncer, tether_url, sql):
    database = urlsplit(tether_url).path.lstrip("/")
    async with Database(pgbouncer.url(database), pgbouncer=True, max_size=2) as db:
        ada = await UserRepository(db).create("ada@example.com", "Ada", "professor")
        course = await CourseRepository(db).create(ada.id, "ML", "ML-101")
        week = await WeekRepository(db).create(course.id, 1)
        reading = await ReadingRepository(db).create(week.id, "a.pdf", "/a")
        for _ in range(3):  # on whichever server connection PgBouncer hands out
            async with db.tenant(course.id) as conn:
                written = await ChunkRepository(conn).write(
                    reading.id, [NewChunk(i, f"c{i}") for i in range(100)]
                )
                assert written == 100
                assert await JobQueue(conn).enqueue_many([NewJob("embed", week.id)] * 5) == 5
            assert await ChunkRepository(db).delete_of_reading(reading.id) == 100
        assert await ChunkRepository(db).write(reading.id, [NewChunk(0, "unscoped")]) == 1
    keys = await sql.fetch(
        "select 'chunks' as t, course_id, count(*) from tutor.chunks group by course_id "
        "union all select 'jobs', course_id, count(*) from tutor.jobs group by course_id"
    )
    assert sorted((r["t"], r["course_id"], r["count"]) for r in keys) == [
        ("chunks", course.id, 1),
        ("jobs", course.id, 15),
    ]
