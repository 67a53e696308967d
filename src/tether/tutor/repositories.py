"""The tutor's repositories: one method per use case, one query per method.

Each works on a `Database`, a pool, or a connection inside the caller's
transaction. Integrity (references, cascades, uniqueness, a conversation's end,
who holds a job) is the database's: these methods never check a reference before
writing it nor delete children.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable

from tether import queries
from tether.paging import Page
from tether.records import all_of
from tether.repository import Repository
from tether.tutor.records import (
    AudioBlob,
    AudioPiece,
    Chunk,
    Conversation,
    Course,
    NewChunk,
    Reading,
    Role,
    Summary,
    User,
    Week,
)

Q = queries.load("tutor")


class UserRepository(Repository):
    INSERT_USER = Q.insert_user.returning(User)
    GET_USER = Q.get_user.returning(User)
    FIND_USER_BY_EMAIL = Q.find_user_by_email.returning(User)
    UPDATE_USER = Q.update_user.returning(User)
    DELETE_USER = Q.delete_user

    async def create(self, email: str, name: str, role: Role | None = None) -> User:
        """A new user (a student unless `role` says otherwise); Conflict if the e-mail
        address is taken, whatever its case."""
        return await self._returning(self.INSERT_USER, email=email, name=name, role=role)

    async def get(self, user_id: int) -> User:
        return await self._get(self.GET_USER, "tutor.users", id=user_id)

    async def find_by_email(self, email: str) -> User | None:
        return await self._one(self.FIND_USER_BY_EMAIL, email=email)

    async def update(
        self, user_id: int, *, name: str | None = None, role: Role | None = None
    ) -> User:
        """A new name and/or role (None keeps it); NotFound if there is no such user."""
        return await self._get(self.UPDATE_USER, "tutor.users", id=user_id, name=name, role=role)

    async def delete(self, user_id: int) -> bool:
        """Delete a user and, by cascade, their courses (and everything below), summaries
        and conversations; False if there was none."""
        return await self._execrows(self.DELETE_USER, id=user_id) > 0


class CourseRepository(Repository):
    INSERT_COURSE = Q.insert_course.returning(Course)
    GET_COURSE = Q.get_course.returning(Course)
    FIND_COURSE_BY_CODE = Q.find_course_by_code.returning(Course)
    COURSES_OF_PROFESSOR = Q.courses_of_professor.returning(Course)
    UPDATE_COURSE = Q.update_course.returning(Course)
    DELETE_COURSE = Q.delete_course

    async def create(self, professor_id: int, name: str, code: str) -> Course:
        """A new course; Conflict if the code is taken, MissingReference if the
        professor does not exist."""
        return await self._returning(
            self.INSERT_COURSE, name=name, code=code, professor_id=professor_id
        )

    async def get(self, course_id: int) -> Course:
        return await self._get(self.GET_COURSE, "tutor.courses", id=course_id)

    async def find_by_code(self, code: str) -> Course | None:
        return await self._one(self.FIND_COURSE_BY_CODE, code=code)

    async def of_professor(self, professor_id: int) -> list[Course]:
        """A professor's courses, by code."""
        return await self._many(self.COURSES_OF_PROFESSOR, professor_id=professor_id)

    async def update(
        self, course_id: int, *, name: str | None = None, code: str | None = None
    ) -> Course:
        """A new name and/or code (None keeps it); NotFound if there is no such course."""
        return await self._get(
            self.UPDATE_COURSE, "tutor.courses", id=course_id, name=name, code=code
        )

    async def delete(self, course_id: int) -> bool:
        """Delete a course and, by cascade, its weeks and all of theirs (their jobs stay,
        with week_id NULL)."""
        return await self._execrows(self.DELETE_COURSE, id=course_id) > 0


class WeekRepository(Repository):
    INSERT_WEEK = Q.insert_week.returning(Week)
    GET_WEEK = Q.get_week.returning(Week)
    WEEKS_OF_COURSE = Q.weeks_of_course.returning(Week)
    DELETE_WEEK = Q.delete_week

    async def create(self, course_id: int, number: int, title: str | None = None) -> Week:
        """Week `number` (1 or more) of a course; Conflict if the course has it already."""
        return await self._returning(
            self.INSERT_WEEK, course_id=course_id, number=number, title=title
        )

    async def get(self, week_id: int) -> Week:
        return await self._get(self.GET_WEEK, "tutor.weeks", id=week_id)

    async def of_course(self, course_id: int) -> list[Week]:
        """A course's weeks, in order."""
        return await self._many(self.WEEKS_OF_COURSE, course_id=course_id)

    async def delete(self, week_id: int) -> bool:
        """Delete a week and, by cascade, its readings, chunks, summaries, conversations
        and audio; its jobs stay, with week_id NULL."""
        return await self._execrows(self.DELETE_WEEK, id=week_id) > 0


class ReadingRepository(Repository):
    INSERT_READING = Q.insert_reading.returning(Reading)
    GET_READING = Q.get_reading.returning(Reading)
    READINGS_OF_WEEK = Q.readings_of_week.returning(Reading)
    DELETE_READING = Q.delete_reading

    async def create(self, week_id: int, filename: str, file_path: str) -> Reading:
        return await self._returning(
            self.INSERT_READING, week_id=week_id, filename=filename, file_path=file_path
        )

    async def get(self, reading_id: int) -> Reading:
        return await self._get(self.GET_READING, "tutor.readings", id=reading_id)

    async def of_week(self, week_id: int) -> list[Reading]:
        """A week's readings, in upload order."""
        return await self._many(self.READINGS_OF_WEEK, week_id=week_id)

    async def delete(self, reading_id: int) -> bool:
        """Delete a reading and, by cascade, its chunks."""
        return await self._execrows(self.DELETE_READING, id=reading_id) > 0


class ChunkRepository(Repository):
    COPY_CHUNKS = Q.copy_chunks
    COURSE_OF_READING = Q.course_of_reading
    CHUNKS_OF_READING = Q.chunks_of_reading.returning(Chunk)
    CHUNKS_PAGE = Q.chunks_page.returning(Chunk)
    DELETE_CHUNKS = Q.delete_chunks

    async def write(self, reading_id: int, chunks: Iterable[NewChunk]) -> int:
        """Write a reading's chunks with COPY; return how many. One that breaks a rule
        (an index used twice, a missing reading) refuses them all."""
        written = all_of(NewChunk, "tutor.chunks", chunks)
        # The course in every row: a lookup per row would cost a third of the COPY (a
        # missing or unseen reading leaves it NULL, and the per-row lookup refuses it).
        course_id = await self._val(self.COURSE_OF_READING, reading_id=reading_id)
        rows = [(reading_id, course_id, c.idx, c.content, c.meta) for c in written]
        return await self._copy(self.COPY_CHUNKS, rows)

    async def of_reading(self, reading_id: int) -> list[Chunk]:
        """Every chunk of a reading, in order (for big readings, `page_of_reading`)."""
        return await self._many(self.CHUNKS_OF_READING, reading_id=reading_id)

    async def page_of_reading(
        self, reading_id: int, *, limit: int = 100, after: str | None = None
    ) -> Page[Chunk]:
        """A page of a reading's chunks in order; `after` is the previous page's `next`."""
        return await self._page(
            self.CHUNKS_PAGE, key=("idx",), limit=limit, after=after, reading_id=reading_id
        )

    async def delete_of_reading(self, reading_id: int) -> int:
        """Delete a reading's chunks (to cut it again); return how many went."""
        return await self._execrows(self.DELETE_CHUNKS, reading_id=reading_id)


class SummaryRepository(Repository):
    INSERT_SUMMARY = Q.insert_summary.returning(Summary)
    SUMMARIES_OF_WEEK = Q.summaries_of_week.returning(Summary)
    UPDATE_SUMMARY = Q.update_summary.returning(Summary)
    DELETE_SUMMARY = Q.delete_summary

    async def create(self, week_id: int, created_by_id: int, content: str) -> Summary:
        return await self._returning(
            self.INSERT_SUMMARY, week_id=week_id, created_by_id=created_by_id, content=content
        )

    async def of_week(self, week_id: int) -> list[Summary]:
        """A week's summaries, newest first."""
        return await self._many(self.SUMMARIES_OF_WEEK, week_id=week_id)

    async def update(self, summary_id: int, content: str) -> Summary:
        """New content (updated_at moves on); NotFound if there is no such summary."""
        return await self._get(
            self.UPDATE_SUMMARY, "tutor.summaries", id=summary_id, content=content
        )

    async def delete(self, summary_id: int) -> bool:
        return await self._execrows(self.DELETE_SUMMARY, id=summary_id) > 0


class ConversationRepository(Repository):
    START_CONVERSATION = Q.start_conversation.returning(Conversation)
    END_CONVERSATION = Q.end_conversation.returning(Conversation)
    GET_CONVERSATION = Q.get_conversation.returning(Conversation)
    FIND_CONVERSATION_BY_SESSION = Q.find_conversation_by_session.returning(Conversation)
    CONVERSATIONS_OF_WEEK = Q.conversations_of_week.returning(Conversation)
    DELETE_CONVERSATION = Q.delete_conversation

    async def start(
        self,
        user_id: int,
        week_id: int,
        session_id: str,
        started_at: dt.datetime | None = None,
    ) -> Conversation:
        """A new conversation (from now, unless `started_at`); Conflict if the session
        id is taken."""
        return await self._returning(
            self.START_CONVERSATION,
            user_id=user_id,
            week_id=week_id,
            session_id=session_id,
            started_at=started_at,
        )

    async def end(self, conversation_id: int, ended_at: dt.datetime | None = None) -> Conversation:
        """End a conversation (now, unless `ended_at`): its end time and its duration in
        whole seconds are set together. AlreadyEnded if it has ended; NotFound if none."""
        return await self._get(
            self.END_CONVERSATION, "tutor.conversations", id=conversation_id, ended_at=ended_at
        )

    async def get(self, conversation_id: int) -> Conversation:
        return await self._get(self.GET_CONVERSATION, "tutor.conversations", id=conversation_id)

    async def find_by_session(self, session_id: str) -> Conversation | None:
        return await self._one(self.FIND_CONVERSATION_BY_SESSION, session_id=session_id)

    async def of_week(self, week_id: int) -> list[Conversation]:
        """A week's conversations, newest first."""
        return await self._many(self.CONVERSATIONS_OF_WEEK, week_id=week_id)

    async def delete(self, conversation_id: int) -> bool:
        """Delete a conversation and, by cascade, its audio."""
        return await self._execrows(self.DELETE_CONVERSATION, id=conversation_id) > 0


class AudioRepository(Repository):
    APPEND_AUDIO = Q.append_audio.returning(AudioPiece)
    AUDIO_OF_CONVERSATION = Q.audio_of_conversation.returning(AudioPiece)
    STREAM_AUDIO = Q.stream_audio.returning(AudioBlob)

    async def append(
        self,
        conversation_id: int,
        data: bytes,
        duration_ms: int | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> AudioPiece:
        """One more piece (1 byte to 16 MiB) of a conversation's audio."""
        return await self._returning(
            self.APPEND_AUDIO,
            conversation_id=conversation_id,
            blob_data=data,
            duration_ms=duration_ms,
            recorded_at=recorded_at,
        )

    async def of_conversation(self, conversation_id: int) -> list[AudioPiece]:
        """A conversation's audio pieces in order, without their bytes."""
        return await self._many(self.AUDIO_OF_CONVERSATION, conversation_id=conversation_id)

    async def stream(self, conversation_id: int, *, prefetch: int = 4) -> AsyncIterator[AudioBlob]:
        """A conversation's audio pieces with their bytes, in order, from a server-side
        cursor: at most `prefetch` pieces are held at once, however long the audio."""
        async for blob in self._stream(
            self.STREAM_AUDIO, prefetch=prefetch, conversation_id=conversation_id
        ):
            yield blob
