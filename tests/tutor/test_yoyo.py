"""A service deploying the tutor alone: plain `yoyo apply` of `common` and `tutor` builds
a database where the tutor's rules hold and its repositories work."""

import datetime as dt

import pytest

from domain_checks import yoyo_built
from tether import Conflict, Database, InvalidValue
from tether.testing import expect_changes
from tether.tutor import (
    ConversationRepository,
    JobQueue,
    LeaseLost,
    Retry,
    UserRepository,
    WeekRepository,
)

from .conftest import START, make_course


@pytest.mark.slow
async def test_the_tutor_on_a_database_built_by_plain_yoyo_apply(tether_server_url):
    async with yoyo_built(tether_server_url, "tutor") as url, Database(url) as db:
        schemas = await db.pool.fetchval(
            "select array_agg(nspname::text order by nspname) from pg_namespace "
            "where nspname in ('tutor', 'planner')"
        )
        assert schemas == ["tutor"]
        course = await make_course(db)
        with pytest.raises(Conflict) as refused:
            await UserRepository(db).create("ADA@example.com", "Twin")
        assert refused.value.constraint == "users_email_key"
        with pytest.raises(InvalidValue) as refused:
            await ConversationRepository(db).end(course.talk.id, START - dt.timedelta(1))
        assert refused.value.constraint == "conversations_duration_seconds_check"
        await JobQueue(db).enqueue("rescue", retry=Retry(attempts=2))
        job = await JobQueue(db, lease=dt.timedelta(0)).claim_one(["rescue"])
        rescued = await JobQueue(db).claim_one(["rescue"])
        assert (rescued.id, rescued.attempt) == (job.id, 2)
        with pytest.raises(LeaseLost):
            await JobQueue(db).succeed(job)
        await ConversationRepository(db).end(course.talk.id)
        async with (
            db.connection() as conn,
            expect_changes(
                conn,
                deleted={
                    "tutor.weeks": 1,
                    "tutor.readings": 1,
                    "tutor.chunks": 5,
                    "tutor.summaries": 1,
                    "tutor.conversations": 1,
                    "tutor.audio_blobs": 2,
                },
                updated={"tutor.jobs": 2},
            ),
        ):
            await WeekRepository(conn).delete(course.week1.id)
