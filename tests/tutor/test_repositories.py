"""Every tutor repository method against a real database, and every refused write as
the right tether error, naming its table and rule, with nothing written."""

import asyncio
import datetime as dt
import os
import tracemalloc

import pytest

from tether import Conflict, InvalidValue, MissingReference, NotFound, TetherError
from tether.tutor import (
    AlreadyEnded,
    AudioRepository,
    ChunkRepository,
    ConversationRepository,
    CourseRepository,
    NewChunk,
    ReadingRepository,
    SummaryRepository,
    UserRepository,
    WeekRepository,
)

from .conftest import FULL, START, counts


async def refused(db, error, table, constraint, call):
    """`call` raises `error` naming `table` and `constraint`, and writes nothing."""
    before = await counts(db)
    with pytest.raises(error) as caught:
        await call
    assert caught.value.table == table
    assert caught.value.constraint == constraint
    assert f"(rule {constraint})" in str(caught.value)
    assert await counts(db) == before
    return caught.value


async def test_users_crud(course):
    db, users = course.db, UserRepository(course.db)
    assert (course.ben.role, course.ada.role) == ("student", "professor")
    assert (await users.find_by_email("BEN@Example.COM")).id == course.ben.id
    assert await users.find_by_email("nobody@example.com") is None
    assert await users.get(course.ben.id) == course.ben
    ben = await users.update(course.ben.id, name="Benjamin", role="admin")
    assert (ben.name, ben.role, ben.email) == ("Benjamin", "admin", "ben@example.com")
    assert (await users.update(course.ben.id, name="Ben")).role == "admin"
    with pytest.raises(NotFound, match=r"tutor\.users"):
        await users.update(-1, name="x")
    with pytest.raises(NotFound, match=r"tutor\.users"):
        await users.get(-1)
    await refused(
        db, Conflict, "tutor.users", "users_email_key", users.create("Ben@EXAMPLE.com", "Twin")
    )
    await refused(
        db, InvalidValue, "tutor.users", "users_role_check", users.create("d@x.io", "D", "dean")
    )
    await refused(db, InvalidValue, "tutor.users", "users_email_check", users.create("d", "D"))
    await refused(db, InvalidValue, "tutor.users", "users_name_check", users.create("d@x.io", " "))
    await refused(
        db, InvalidValue, "tutor.users", "users_role_check", users.update(course.ben.id, role="x")
    )
    assert await users.delete(course.cy.id)
    assert not await users.delete(course.cy.id)


async def test_courses_crud(course):
    db, courses = course.db, CourseRepository(course.db)
    ai = await courses.create(course.ada.id, "Artificial Intelligence", "AI-200")
    assert [c.code for c in await courses.of_professor(course.ada.id)] == ["AI-200", "ML-101"]
    assert await courses.of_professor(course.ben.id) == []
    assert await courses.find_by_code("AI-200") == ai
    assert await courses.find_by_code("ai-200") is None
    assert await courses.get(ai.id) == ai
    renamed = await courses.update(ai.id, name="AI")
    assert (renamed.name, renamed.code) == ("AI", "AI-200")
    assert (await courses.update(ai.id, code="AI-201")).code == "AI-201"
    await refused(
        db, Conflict, "tutor.courses", "courses_code_key", courses.update(ai.id, code="ML-101")
    )
    await refused(
        db,
        Conflict,
        "tutor.courses",
        "courses_code_key",
        courses.create(course.ben.id, "Copy", "ML-101"),
    )
    await refused(
        db,
        MissingReference,
        "tutor.courses",
        "courses_professor_id_fkey",
        courses.create(10**9, "Ghost", "G-1"),
    )
    await refused(
        db,
        InvalidValue,
        "tutor.courses",
        "courses_code_check",
        courses.create(course.ada.id, "Long", "C" * 65),
    )
    await refused(
        db,
        InvalidValue,
        "tutor.courses",
        "courses_name_check",
        courses.create(course.ada.id, "N" * 256, "N-1"),
    )
    assert await courses.create(course.ada.id, "N" * 255, "C" * 64)
    with pytest.raises(NotFound):
        await courses.update(-1, name="x")
    assert await courses.delete(ai.id) and not await courses.delete(ai.id)


async def test_weeks_of_a_course_in_order(course):
    db, weeks = course.db, WeekRepository(course.db)
    week4 = await weeks.create(course.course.id, 4)
    week3 = await weeks.create(course.course.id, 3, "Backpropagation")
    assert [(w.number, w.title) for w in await weeks.of_course(course.course.id)] == [
        (1, "Perceptrons"),
        (2, "Gradient descent"),
        (3, "Backpropagation"),
        (4, None),
    ]
    assert await weeks.get(week3.id) == week3
    await refused(
        db,
        Conflict,
        "tutor.weeks",
        "uq_weeks_course_number",
        weeks.create(course.course.id, 4, "Again"),
    )
    await refused(
        db, InvalidValue, "tutor.weeks", "weeks_number_check", weeks.create(course.course.id, 0)
    )
    await refused(
        db,
        InvalidValue,
        "tutor.weeks",
        "weeks_title_check",
        weeks.create(course.course.id, 5, "t" * 256),
    )
    await refused(
        db, MissingReference, "tutor.weeks", "weeks_course_id_fkey", weeks.create(10**9, 1)
    )
    assert await weeks.delete(week4.id)


async def test_readings_of_a_week(course):
    db, readings = course.db, ReadingRepository(course.db)
    second = await readings.create(course.week1.id, "w1b.pdf", "/files/w1b.pdf")
    assert [r.id for r in await readings.of_week(course.week1.id)] == [course.reading.id, second.id]
    assert await readings.of_week(course.week2.id) == []
    assert await readings.get(second.id) == second
    await refused(
        db,
        InvalidValue,
        "tutor.readings",
        "readings_filename_check",
        readings.create(course.week1.id, "f" * 513, "/p"),
    )
    await refused(
        db,
        InvalidValue,
        "tutor.readings",
        "readings_file_path_check",
        readings.create(course.week1.id, "f", "p" * 1025),
    )
    await refused(
        db,
        MissingReference,
        "tutor.readings",
        "readings_week_id_fkey",
        readings.create(10**9, "f", "p"),
    )


async def test_chunks_are_written_with_copy_and_read_in_order(course):
    db, chunks = course.db, ChunkRepository(course.db)
    reading = await ReadingRepository(db).create(course.week2.id, "w2.pdf", "/w2.pdf")
    # Written out of order; read back in order, JSON metadata intact.
    written = await chunks.write(
        reading.id,
        [
            NewChunk(i, f"part {i}", {"page": i // 10, "tags": ["é", None]})
            for i in range(249, -1, -1)
        ],
    )
    assert written == 250
    every = await chunks.of_reading(reading.id)
    assert [c.idx for c in every] == list(range(250))
    assert every[42].meta == {"page": 4, "tags": ["é", None]}
    pages, after = [], None
    while True:
        page = await chunks.page_of_reading(reading.id, limit=100, after=after)
        pages.append([c.idx for c in page])
        if page.next is None:
            break
        after = page.next
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [i for p in pages for i in p] == list(range(250))
    with pytest.raises(InvalidValue, match="cursor"):
        await chunks.page_of_reading(reading.id, after="not-a-cursor")
    with pytest.raises(InvalidValue, match="1 to 1000"):
        await chunks.page_of_reading(reading.id, limit=0)
    assert await chunks.delete_of_reading(reading.id) == 250
    assert await chunks.of_reading(reading.id) == []


async def test_a_bad_chunk_refuses_the_whole_copy(course):
    db, chunks = course.db, ChunkRepository(course.db)
    rid = course.reading.id
    await refused(
        db,
        Conflict,
        "tutor.chunks",
        "chunks_reading_id_idx_key",
        chunks.write(rid, [NewChunk(10, "a"), NewChunk(11, "b"), NewChunk(4, "taken")]),
    )
    await refused(
        db,
        InvalidValue,
        "tutor.chunks",
        "chunks_idx_check",
        chunks.write(rid, [NewChunk(20, "a"), NewChunk(-1, "b")]),
    )
    await refused(
        db,
        MissingReference,
        "tutor.chunks",
        "chunks_reading_id_fkey",
        chunks.write(10**9, [NewChunk(0, "a")]),
    )
    with pytest.raises(InvalidValue, match=r"tutor\.chunks: content must be str"):
        NewChunk(0, ["a list"])
    with pytest.raises(InvalidValue, match="expected NewChunk"):
        await chunks.write(rid, [(0, "a tuple")])
    assert await counts(db) == FULL


async def test_summaries_per_week_and_updated_at_kept_by_the_database(course):
    db, summaries = course.db, SummaryRepository(course.db)
    second = await summaries.create(course.week1.id, course.ben.id, "Ben's take")
    assert [s.content for s in await summaries.of_week(course.week1.id)] == [
        "Ben's take",
        "Perceptrons, in short.",
    ]
    assert second.updated_at == second.created_at
    await asyncio.sleep(0.01)
    edited = await summaries.update(second.id, "Ben's better take")
    assert edited.content == "Ben's better take"
    assert edited.updated_at > edited.created_at == second.created_at
    await refused(
        db,
        InvalidValue,
        "tutor.summaries",
        "summaries_content_check",
        summaries.update(second.id, "  "),
    )
    await refused(
        db,
        MissingReference,
        "tutor.summaries",
        "summaries_created_by_id_fkey",
        summaries.create(course.week1.id, 10**9, "x"),
    )
    await refused(
        db,
        MissingReference,
        "tutor.summaries",
        "summaries_week_id_fkey",
        summaries.create(10**9, course.ada.id, "x"),
    )
    with pytest.raises(NotFound):
        await summaries.update(-1, "x")
    assert await summaries.delete(second.id) and not await summaries.delete(second.id)


async def test_a_conversation_starts_and_ends_with_its_duration(course):
    db, conversations = course.db, ConversationRepository(course.db)
    talk = course.talk
    assert (talk.started_at, talk.ended_at, talk.duration_seconds) == (START, None, None)
    assert await conversations.find_by_session("s-ben-1") == talk
    ended = await conversations.end(talk.id, START + dt.timedelta(minutes=3, seconds=20.4))
    assert ended.duration_seconds == 200
    assert ended.ended_at == START + dt.timedelta(minutes=3, seconds=20.4)
    assert await conversations.get(talk.id) == ended
    error = await refused(
        db,
        AlreadyEnded,
        "tutor.conversations",
        "conversations_ended_once",
        conversations.end(talk.id),
    )
    assert isinstance(error, Conflict) and "ends once" in str(error)
    now = await conversations.start(course.cy.id, course.week2.id, "s-cy-1")
    assert (await conversations.end(now.id)).duration_seconds == 0
    assert [c.id for c in await conversations.of_week(course.week1.id)] == [talk.id]
    with pytest.raises(NotFound, match=r"tutor\.conversations"):
        await conversations.end(-1)


async def test_a_conversation_cannot_end_before_it_started(course):
    """PostgreSQL checks rules in name order: the negative duration is reported before
    conversations_ended_at_check (which holds as well, for writers of their own)."""
    error = await refused(
        course.db,
        InvalidValue,
        "tutor.conversations",
        "conversations_duration_seconds_check",
        ConversationRepository(course.db).end(course.talk.id, START - dt.timedelta(seconds=1)),
    )
    assert "cannot end before it started" in str(error)


@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        (
            "ended_at = started_at + interval '10 s', duration_seconds = 11",
            "conversations_duration_agrees_check",
        ),
        (
            "ended_at = started_at + interval '10 s', duration_seconds = 9",
            "conversations_duration_agrees_check",
        ),
        ("ended_at = started_at + interval '10 s'", "conversations_ended_check"),
        ("duration_seconds = 10", "conversations_ended_check"),
        ("duration_seconds = -1", "conversations_duration_seconds_check"),
    ],
)
async def test_the_database_refuses_a_duration_that_contradicts_the_times(
    course, assignment, constraint
):
    """Whoever writes, not only the repository: plain SQL is held to the same rules."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 (asyncpg's error, checked below)
        await course.db.pool.execute(
            f"update tutor.conversations set {assignment} where id = $1", course.talk.id
        )
    assert caught.value.constraint_name == constraint
    await course.db.pool.execute(
        "update tutor.conversations set ended_at = started_at + interval '10.5 s', "
        "duration_seconds = 11 where id = $1",
        course.talk.id,
    )


async def test_conversation_rules(course):
    db, conversations = course.db, ConversationRepository(course.db)
    await refused(
        db,
        Conflict,
        "tutor.conversations",
        "conversations_session_id_key",
        conversations.start(course.cy.id, course.week1.id, "s-ben-1"),
    )
    await refused(
        db,
        InvalidValue,
        "tutor.conversations",
        "conversations_session_id_check",
        conversations.start(course.cy.id, course.week1.id, "s" * 256),
    )
    await refused(
        db,
        MissingReference,
        "tutor.conversations",
        "conversations_week_id_fkey",
        conversations.start(course.cy.id, 10**9, "s-x"),
    )
    await refused(
        db,
        MissingReference,
        "tutor.conversations",
        "conversations_user_id_fkey",
        conversations.start(10**9, course.week1.id, "s-y"),
    )


async def test_audio_round_trips_byte_for_byte_in_order(course):
    audio = AudioRepository(course.db)
    talk = await ConversationRepository(course.db).start(course.cy.id, course.week1.id, "s-cy")
    sent = [os.urandom(n) for n in (1, 4096, 65_536, 3, 1_000_000)] + [b"\x00\xff" * 10]
    pieces = [await audio.append(talk.id, data, duration_ms=20 * n) for n, data in enumerate(sent)]
    assert [p.size for p in pieces] == [len(d) for d in sent]
    assert await audio.of_conversation(talk.id) == pieces
    received = [blob async for blob in audio.stream(talk.id, prefetch=2)]
    assert [b.blob_data for b in received] == sent
    assert [b.id for b in received] == [p.id for p in pieces]
    assert [b.duration_ms for b in received] == [20 * n for n in range(len(sent))]
    assert "blob_data" not in repr(received[0])


async def test_audio_streams_with_constant_memory(course):
    """40 MiB of audio in 1 MiB pieces, streamed: the client never holds more than a few
    pieces (tracemalloc's peak), whatever the total."""
    audio = AudioRepository(course.db)
    talk = await ConversationRepository(course.db).start(course.cy.id, course.week1.id, "s-big")
    piece = os.urandom(1 << 20)
    for _ in range(40):
        await audio.append(talk.id, piece)
    tracemalloc.start()
    try:
        total = 0
        async for blob in audio.stream(talk.id, prefetch=2):
            total += len(blob.blob_data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 40 << 20
    assert peak < 8 << 20, f"peak {peak / (1 << 20):.1f} MiB"


async def test_audio_rules(course):
    db, audio = course.db, AudioRepository(course.db)
    await refused(
        db,
        InvalidValue,
        "tutor.audio_blobs",
        "audio_blobs_blob_data_check",
        audio.append(course.talk.id, b""),
    )
    await refused(
        db,
        InvalidValue,
        "tutor.audio_blobs",
        "audio_blobs_duration_ms_check",
        audio.append(course.talk.id, b"x", duration_ms=-1),
    )
    await refused(
        db,
        MissingReference,
        "tutor.audio_blobs",
        "audio_blobs_conversation_id_fkey",
        audio.append(10**9, b"x"),
    )
    with pytest.raises(TetherError):
        await audio.append(course.talk.id, "text, not bytes")


async def test_every_method_joins_the_callers_transaction(course):
    db = course.db

    async def everything_then_a_failure():
        async with db.transaction() as conn:
            user = await UserRepository(conn).create("tx@example.com", "Tx", "professor")
            new = await CourseRepository(conn).create(user.id, "Tx", "TX-1")
            week = await WeekRepository(conn).create(new.id, 1)
            reading = await ReadingRepository(conn).create(week.id, "f", "p")
            await ChunkRepository(conn).write(reading.id, [NewChunk(0, "x")])
            await SummaryRepository(conn).create(week.id, user.id, "s")
            talk = await ConversationRepository(conn).start(user.id, week.id, "s-tx")
            await AudioRepository(conn).append(talk.id, b"x")
            assert [b.blob_data async for b in AudioRepository(conn).stream(talk.id)] == [b"x"]
            raise RuntimeError("roll it all back")

    with pytest.raises(RuntimeError):
        await everything_then_a_failure()
    assert await counts(db) == FULL
