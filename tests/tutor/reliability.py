"""The tutor's entry in the reliability suite (see tests/reliability/model.py): every
method that takes text, JSON or audio bytes, on rows `make_owner` makes. The updates of
users and courses are left out: there None keeps a value (it is not stored), and they
write the same columns, under the same rules, as the creates here."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

from reliability.model import EMAILS, JSON_OBJECTS, Domain, TextInput
from tether import Database
from tether.tutor import (
    AudioRepository,
    ChunkRepository,
    ConversationRepository,
    CourseRepository,
    JobQueue,
    NewChunk,
    ReadingRepository,
    SummaryRepository,
    UserRepository,
    WeekRepository,
)
from tether.tutor.worker import ERROR_CHARS


@frozen
class Owner:
    """The rows every input hangs off: a professor, their course and its first week, a
    reading, a conversation, and a job the owner's worker has claimed."""

    user_id: int
    course_id: int
    week_id: int
    reading_id: int
    conversation_id: int
    job: Any


def as_jsonb(value: Any) -> Any:
    """A JSON value as jsonb gives it back: each float becomes the decimal its shortest
    text reads as (3.990930955913701e+16 comes back as 39909309559137010)."""
    if isinstance(value, float):
        return json.loads(format(Decimal(repr(value)), "f"))
    if isinstance(value, dict):
        return {key: as_jsonb(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_jsonb(item) for item in value]
    return value


async def make_owner(db: Database, email: str = "owner@example.com") -> Owner:
    user = await UserRepository(db).create(email, "Owner", "professor")
    course = await CourseRepository(db).create(user.id, "Owner's course", "OWN-1")
    week = await WeekRepository(db).create(course.id, 1, "Owner's week")
    reading = await ReadingRepository(db).create(week.id, "owner.pdf", "/owner.pdf")
    talk = await ConversationRepository(db).start(user.id, week.id, "owner-session")
    queue = JobQueue(db)
    await queue.enqueue("owner-kind", week.id)
    job = await queue.claim_one(["owner-kind"])
    return Owner(user.id, course.id, week.id, reading.id, talk.id, job)


async def _user_email(db: Database, owner: Owner, value: Any) -> int:
    return (await UserRepository(db).create(value, "Hostile")).id


async def _user_name(db: Database, owner: Owner, value: Any) -> int:
    return (await UserRepository(db).create("hostile@example.com", value)).id


async def _find_by_email(db: Database, owner: Owner, value: Any) -> None:
    await UserRepository(db).find_by_email(value)


async def _course_name(db: Database, owner: Owner, value: Any) -> int:
    return (await CourseRepository(db).create(owner.user_id, value, "HOSTILE-1")).id


async def _course_code(db: Database, owner: Owner, value: Any) -> int:
    return (await CourseRepository(db).create(owner.user_id, "Hostile", value)).id


async def _find_by_code(db: Database, owner: Owner, value: Any) -> None:
    await CourseRepository(db).find_by_code(value)


async def _week_title(db: Database, owner: Owner, value: Any) -> int:
    return (await WeekRepository(db).create(owner.course_id, 2, value)).id


async def _reading_filename(db: Database, owner: Owner, value: Any) -> int:
    return (await ReadingRepository(db).create(owner.week_id, value, "/hostile")).id


async def _reading_file_path(db: Database, owner: Owner, value: Any) -> int:
    return (await ReadingRepository(db).create(owner.week_id, "hostile.pdf", value)).id


async def _chunk_content(db: Database, owner: Owner, value: Any) -> int:
    await ChunkRepository(db).write(owner.reading_id, [NewChunk(0, value)])
    return owner.reading_id


async def _chunk_meta(db: Database, owner: Owner, value: Any) -> int:
    await ChunkRepository(db).write(owner.reading_id, [NewChunk(0, "text", value)])
    return owner.reading_id


async def _summary(db: Database, owner: Owner, value: Any) -> int:
    return (await SummaryRepository(db).create(owner.week_id, owner.user_id, value)).id


async def _job_kind(db: Database, owner: Owner, value: Any) -> int:
    return (await JobQueue(db).enqueue(value, owner.week_id)).id


async def _job_payload(db: Database, owner: Owner, value: Any) -> int:
    """The hostile value inside an object: None then reads back as JSON null."""
    return (await JobQueue(db).enqueue("hostile", owner.week_id, {"value": value})).id


async def _job_error(db: Database, owner: Owner, value: Any) -> int:
    await JobQueue(db).fail(owner.job, value)
    return int(owner.job.id)


async def _claim_kind(db: Database, owner: Owner, value: Any) -> None:
    await JobQueue(db).claim([value])


async def _session_id(db: Database, owner: Owner, value: Any) -> int:
    return (await ConversationRepository(db).start(owner.user_id, owner.week_id, value)).id


async def _find_by_session(db: Database, owner: Owner, value: Any) -> None:
    await ConversationRepository(db).find_by_session(value)


async def _audio(db: Database, owner: Owner, value: Any) -> int:
    return (await AudioRepository(db).append(owner.conversation_id, value)).id


DOMAIN = Domain(
    schema="tutor",
    make_owner=make_owner,
    text_inputs=(
        TextInput(
            "tutor.users.email",
            _user_email,
            "select array[email] from tutor.users where id = $1",
            1,
            valid=EMAILS,
        ),
        TextInput(
            "tutor.users.name", _user_name, "select array[name] from tutor.users where id = $1", 1
        ),
        TextInput("tutor.users.find_by_email", _find_by_email, None, 0, valid=EMAILS),
        TextInput(
            "tutor.courses.name",
            _course_name,
            "select array[name] from tutor.courses where id = $1",
            1,
        ),
        TextInput(
            "tutor.courses.code",
            _course_code,
            "select array[code] from tutor.courses where id = $1",
            1,
        ),
        TextInput("tutor.courses.find_by_code", _find_by_code, None, 0),
        TextInput(
            "tutor.weeks.title",
            _week_title,
            "select array[title] from tutor.weeks where id = $1",
            1,
        ),
        TextInput(
            "tutor.readings.filename",
            _reading_filename,
            "select array[filename] from tutor.readings where id = $1",
            1,
        ),
        TextInput(
            "tutor.readings.file_path",
            _reading_file_path,
            "select array[file_path] from tutor.readings where id = $1",
            1,
        ),
        TextInput(
            "tutor.chunks.content",
            _chunk_content,
            "select array_agg(content) from tutor.chunks where reading_id = $1",
            1,
        ),
        TextInput(
            "tutor.chunks.meta",
            _chunk_meta,
            "select array_agg(meta) from tutor.chunks where reading_id = $1",
            1,
            as_jsonb,
            valid=JSON_OBJECTS,
        ),
        TextInput(
            "tutor.summaries.content",
            _summary,
            "select array[content] from tutor.summaries where id = $1",
            1,
        ),
        TextInput(
            "tutor.jobs.kind", _job_kind, "select array[kind] from tutor.jobs where id = $1", 1
        ),
        TextInput(
            "tutor.jobs.payload",
            _job_payload,
            "select array[payload -> 'value'] from tutor.jobs where id = $1",
            1,
            as_jsonb,
            valid=JSON_OBJECTS,
        ),
        TextInput(
            "tutor.jobs.error",
            _job_error,
            "select array[error] from tutor.jobs where id = $1",
            0,
            # An attempt's error is kept to its first 2,000 characters.
            lambda value: value[:ERROR_CHARS] if isinstance(value, str) else value,
        ),
        TextInput("tutor.jobs.claim", _claim_kind, None, 0),
        TextInput(
            "tutor.conversations.session_id",
            _session_id,
            "select array[session_id] from tutor.conversations where id = $1",
            1,
        ),
        TextInput("tutor.conversations.find_by_session", _find_by_session, None, 0),
        TextInput(
            "tutor.audio_blobs.blob_data",
            _audio,
            "select array[blob_data] from tutor.audio_blobs where id = $1",
            1,
            valid=st.binary(min_size=1, max_size=2048),
        ),
    ),
    rows_of_owner="""
        with own_weeks as (
            select w.id from tutor.weeks w
            join tutor.courses c on c.id = w.course_id where c.professor_id = $1
        )
        select 'tutor.users' as table_name, count(*) from tutor.users where id = $1
        union all
        select 'tutor.courses', count(*) from tutor.courses where professor_id = $1
        union all
        select 'tutor.weeks', count(*) from own_weeks
        union all
        select 'tutor.readings', count(*) from tutor.readings
        where week_id in (select id from own_weeks)
        union all
        select 'tutor.chunks', count(*) from tutor.chunks c
        join tutor.readings r on r.id = c.reading_id where r.week_id in (select id from own_weeks)
        union all
        select 'tutor.summaries', count(*) from tutor.summaries
        where created_by_id = $1 or week_id in (select id from own_weeks)
        union all
        select 'tutor.conversations', count(*) from tutor.conversations
        where user_id = $1 or week_id in (select id from own_weeks)
        union all
        select 'tutor.audio_blobs', count(*) from tutor.audio_blobs a
        join tutor.conversations c on c.id = a.conversation_id
        where c.user_id = $1 or c.week_id in (select id from own_weeks)
    """,
)
