"""The study domain's entry in the reliability suite (see tests/reliability/model.py)."""

from __future__ import annotations

import uuid
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

from reliability.model import EMAILS, HASHES, Domain, TextInput
from tether import Database
from tether.passwords import MIN_COST, hash_password
from tether.study import (
    ChatRepository,
    ChunkRepository,
    DocumentRepository,
    MessageRepository,
    NewChunk,
    ProfileRepository,
    SessionRepository,
    TopicRepository,
)
from tether.study.embedding import embed

# A password hash as an application stores it (tether.passwords' PHC format; the
# cheapest cost, for speed).
HASH = hash_password("owner's password", cost=MIN_COST)


@frozen
class Owner:
    """The rows every text input hangs off: a profile, a session with a document and
    its general chat, and a second session, empty, for draft plans to become topics."""

    id: uuid.UUID  # the profile
    session_id: uuid.UUID
    document_id: uuid.UUID
    chat_id: uuid.UUID
    empty_session_id: uuid.UUID


async def make_owner(db: Database, email: str = "owner@example.com") -> Owner:
    profile = await ProfileRepository(db).create(email, HASH)
    sessions = SessionRepository(db)
    session = await sessions.create(profile.id, "Owner's session")
    document = await DocumentRepository(db).create(session.id, "notes.txt", "uploads/notes.txt")
    chat = await ChatRepository(db).general(session.id)
    empty = await sessions.create(profile.id, "Owner's empty session")
    return Owner(profile.id, session.id, document.id, chat.id, empty.id)


async def _email(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await ProfileRepository(db).create(value, HASH)).id


async def _password_hash(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await ProfileRepository(db).create("hostile@example.com", value)).id


async def _find_by_email(db: Database, owner: Owner, value: Any) -> None:
    await ProfileRepository(db).find_by_email(value)


async def _session_title(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await SessionRepository(db).create(owner.id, value)).id


async def _session_description(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await SessionRepository(db).create(owner.id, "Described", value)).id


async def _status(db: Database, owner: Owner, value: Any) -> None:
    await SessionRepository(db).move(owner.session_id, "UPLOADING", value)


async def _plan(db: Database, owner: Owner, plan: dict[str, Any]) -> uuid.UUID:
    """A draft plan, and its topics made from it, in one transaction."""
    async with db.transaction() as conn:
        await SessionRepository(conn).set_draft_plan(owner.empty_session_id, plan)
        await TopicRepository(conn).create_from_draft_plan(owner.empty_session_id)
    return owner.empty_session_id


async def _topic_title(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return await _plan(db, owner, {"topics": [{"title": value}]})


async def _subtopic(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return await _plan(db, owner, {"topics": [{"title": "Topic", "subtopics": [value]}]})


async def _file_name(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await DocumentRepository(db).create(owner.session_id, value, "uploads/x")).id


async def _file_path(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await DocumentRepository(db).create(owner.session_id, "x.pdf", value)).id


async def _file_description(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    documents = DocumentRepository(db)
    return (await documents.create(owner.session_id, "x", "y", file_description=value)).id


async def _content_text(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await DocumentRepository(db).create(owner.session_id, "x", "y", content_text=value)).id


async def _message(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await MessageRepository(db).append(owner.chat_id, "user", value)).id


async def _role(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await MessageRepository(db).append(owner.chat_id, value, "hello")).id


async def _chunk_text(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    chunk = NewChunk.parent(value, embed("a fixed embedding"))
    await ChunkRepository(db).write(owner.session_id, owner.document_id, [chunk])
    return chunk.id


def one(table: str, column: str) -> str:
    return f"select array[{column}] from study.{table} where id = $1"


DOMAIN = Domain(
    schema="study",
    make_owner=make_owner,
    text_inputs=(
        TextInput("study.profiles.email", _email, one("profiles", "email"), 1, valid=EMAILS),
        TextInput(
            "study.profiles.password_hash",
            _password_hash,
            one("profiles", "password_hash"),
            1,
            valid=HASHES,
        ),
        TextInput("study.profiles.find_by_email", _find_by_email, None, 0, valid=EMAILS),
        TextInput("study.study_sessions.title", _session_title, one("study_sessions", "title"), 1),
        TextInput(
            "study.study_sessions.description",
            _session_description,
            one("study_sessions", "description"),
            1,
        ),
        TextInput(
            "study.study_sessions.status", _status, None, 0, valid=st.just("GENERATING_PLAN")
        ),
        TextInput(
            "study.topics.title (from a draft plan)",
            _topic_title,
            "select array_agg(title) from study.topics where session_id = $1",
            1,
        ),
        TextInput(
            "study.topics.subtopics (from a draft plan)",
            _subtopic,
            "select array_agg(subtopics[1]) from study.topics where session_id = $1",
            1,
        ),
        TextInput("study.documents.file_name", _file_name, one("documents", "file_name"), 1),
        TextInput("study.documents.file_path", _file_path, one("documents", "file_path"), 1),
        TextInput(
            "study.documents.file_description",
            _file_description,
            one("documents", "file_description"),
            1,
        ),
        TextInput(
            "study.documents.content_text", _content_text, one("documents", "content_text"), 1
        ),
        TextInput("study.messages.content", _message, one("messages", "content"), 1),
        TextInput(
            "study.messages.role",
            _role,
            one("messages", "role"),
            1,
            valid=st.sampled_from(["user", "assistant", "system"]),
        ),
        TextInput(
            "study.document_chunks.chunk_text",
            _chunk_text,
            one("document_chunks", "chunk_text"),
            1,
        ),
    ),
    rows_of_owner="""
        select 'study.profiles' as table_name, count(*) from study.profiles where id = $1
        union all
        select 'study.study_sessions', count(*) from study.study_sessions where profile_id = $1
        union all
        select 'study.documents', count(*) from study.documents
        where session_id in (select id from study.study_sessions where profile_id = $1)
        union all
        select 'study.topics', count(*) from study.topics
        where session_id in (select id from study.study_sessions where profile_id = $1)
        union all
        select 'study.chats', count(*) from study.chats
        where session_id in (select id from study.study_sessions where profile_id = $1)
        union all
        select 'study.messages', count(*)
        from study.messages m join study.chats c on c.id = m.chat_id
        where c.session_id in (select id from study.study_sessions where profile_id = $1)
        union all
        select 'study.document_chunks', count(*) from study.document_chunks
        where session_id in (select id from study.study_sessions where profile_id = $1)
    """,
)
