"""What each delete takes with it, as PostgreSQL counts it: a week takes its readings,
chunks, summaries, conversations and audio and keeps its jobs with week_id NULL; a
professor takes their courses and everything below; a student their own rows only."""

from tether.testing import expect_changes
from tether.tutor import (
    ConversationRepository,
    CourseRepository,
    JobQueue,
    ReadingRepository,
    SummaryRepository,
    UserRepository,
    WeekRepository,
)

from .conftest import FULL, counts


async def test_deleting_a_week_keeps_its_jobs_with_week_id_null(course):
    db = course.db
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
        assert await WeekRepository(conn).delete(course.week1.id)
    assert await counts(db) == {
        **FULL,
        "weeks": 1,
        "readings": 0,
        "chunks": 0,
        "summaries": 0,
        "conversations": 0,
        "audio_blobs": 0,
        "jobs_without_week": 2,
    }
    kept = [await JobQueue(db).get(job.id) for job in course.jobs[:2]]
    assert [(j.kind, j.week_id, j.status) for j in kept] == [
        ("summarize", None, "pending"),
        ("embed", None, "pending"),
    ]
    assert (await JobQueue(db).get(course.jobs[2].id)).week_id == course.week2.id
    assert not await WeekRepository(db).delete(course.week1.id)


async def test_deleting_a_professor_deletes_their_courses_and_all_below(course):
    db = course.db
    async with (
        db.connection() as conn,
        expect_changes(
            conn,
            deleted={
                "tutor.users": 1,
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
        assert await UserRepository(conn).delete(course.ada.id)
    assert await counts(db) == {
        "users": 2,
        "courses": 0,
        "weeks": 0,
        "readings": 0,
        "chunks": 0,
        "summaries": 0,
        "conversations": 0,
        "audio_blobs": 0,
        "jobs": 3,
        "jobs_without_week": 3,
    }


async def test_deleting_a_student_deletes_their_conversations_and_audio_only(course):
    db = course.db
    async with (
        db.connection() as conn,
        expect_changes(
            conn,
            deleted={"tutor.users": 1, "tutor.conversations": 1, "tutor.audio_blobs": 2},
            updated={},
        ),
    ):
        assert await UserRepository(conn).delete(course.ben.id)
    assert await counts(db) == {**FULL, "users": 2, "conversations": 0, "audio_blobs": 0}


async def test_deleting_a_course_a_reading_a_conversation(course):
    db = course.db
    async with db.connection() as conn:
        async with expect_changes(
            conn, deleted={"tutor.readings": 1, "tutor.chunks": 5}, updated={}
        ):
            assert await ReadingRepository(conn).delete(course.reading.id)
        async with expect_changes(
            conn, deleted={"tutor.conversations": 1, "tutor.audio_blobs": 2}, updated={}
        ):
            assert await ConversationRepository(conn).delete(course.talk.id)
        async with expect_changes(
            conn,
            deleted={"tutor.courses": 1, "tutor.weeks": 2, "tutor.summaries": 1},
            updated={"tutor.jobs": 3},
        ):
            assert await CourseRepository(conn).delete(course.course.id)
    assert await counts(db) == {
        **FULL,
        "courses": 0,
        "weeks": 0,
        "readings": 0,
        "chunks": 0,
        "summaries": 0,
        "conversations": 0,
        "audio_blobs": 0,
        "jobs_without_week": 3,
    }


async def test_a_summary_author_deleted_takes_their_summaries(course):
    db = course.db
    await SummaryRepository(db).create(course.week2.id, course.cy.id, "Cy's notes")
    async with (
        db.connection() as conn,
        expect_changes(conn, deleted={"tutor.users": 1, "tutor.summaries": 1}, updated={}),
    ):
        assert await UserRepository(conn).delete(course.cy.id)
    assert await counts(db) == {**FULL, "users": 2}
