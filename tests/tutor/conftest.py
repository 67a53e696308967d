"""A small course for the tutor's tests: the rows every test starts from."""

from __future__ import annotations

import datetime as dt

import pytest
from attrs import define

import domain_checks
from tether import Database
from tether.tutor import (
    AudioRepository,
    ChunkRepository,
    Conversation,
    ConversationRepository,
    Course,
    CourseRepository,
    Job,
    JobQueue,
    NewChunk,
    Reading,
    ReadingRepository,
    SummaryRepository,
    User,
    UserRepository,
    Week,
    WeekRepository,
)

START = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`heavy` tests (a million rows) run only when asked for: `-m heavy`."""
    if "heavy" in (config.getoption("markexpr") or ""):
        return
    for item in items:
        if item.get_closest_marker("heavy") is not None:
            item.add_marker(pytest.mark.skip(reason="heavy: run with -m heavy"))


@define
class Course101:
    """Ada's course: week 1 holds a reading of 5 chunks, Ada's summary, Ben's conversation
    with 2 pieces of audio and 2 jobs; week 2 holds a job. Cy studies nothing yet."""

    db: Database
    ada: User
    ben: User
    cy: User
    course: Course
    week1: Week
    week2: Week
    reading: Reading
    talk: Conversation
    jobs: list[Job]


async def make_course(db: Database) -> Course101:
    users = UserRepository(db)
    ada = await users.create("ada@example.com", "Ada", "professor")
    ben = await users.create("ben@example.com", "Ben")
    cy = await users.create("cy@example.com", "Cy")
    course = await CourseRepository(db).create(ada.id, "Machine Learning", "ML-101")
    week1 = await WeekRepository(db).create(course.id, 1, "Perceptrons")
    week2 = await WeekRepository(db).create(course.id, 2, "Gradient descent")
    reading = await ReadingRepository(db).create(week1.id, "w1.pdf", "/files/w1.pdf")
    await ChunkRepository(db).write(reading.id, [NewChunk(i, f"chunk {i}") for i in range(5)])
    await SummaryRepository(db).create(week1.id, ada.id, "Perceptrons, in short.")
    talk = await ConversationRepository(db).start(ben.id, week1.id, "s-ben-1", START)
    for n in range(2):
        await AudioRepository(db).append(talk.id, bytes([n]) * 100, duration_ms=50)
    queue = JobQueue(db)
    jobs = [
        await queue.enqueue("summarize", week1.id),
        await queue.enqueue("embed", week1.id, {"reading_id": reading.id}),
        await queue.enqueue("summarize", week2.id),
    ]
    return Course101(db, ada, ben, cy, course, week1, week2, reading, talk, jobs)


@pytest.fixture
async def course(tether_db) -> Course101:
    return await make_course(tether_db)


async def counts(db: Database) -> dict[str, int]:
    """Rows in every tutor table, and the jobs left with no week (a deleted week's)."""
    without_week = "select count(*) from tutor.jobs where week_id is null"
    return {
        **await domain_checks.counts(db, "tutor"),
        "jobs_without_week": await db.pool.fetchval(without_week),
    }


FULL = {
    "users": 3,
    "courses": 1,
    "weeks": 2,
    "readings": 1,
    "chunks": 5,
    "summaries": 1,
    "conversations": 1,
    "audio_blobs": 2,
    "jobs": 3,
    "jobs_without_week": 0,
}
