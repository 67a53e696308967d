"""The study domain's repositories: one method per use case, one query per method.

Each works on a `Database`, a pool, or a connection inside the caller's
transaction. Integrity (sessions' statuses, parents, related topics, the one
general chat, cascades) is the database's: these methods never check a
reference before writing it, delete children or fix up an array.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from tether import queries
from tether.errors import InvalidValue, NotFound
from tether.paging import Page
from tether.repository import Repository
from tether.study.errors import StatusChanged
from tether.study.records import (
    Chat,
    Chunk,
    Document,
    Message,
    MessageRole,
    NewChunk,
    ProcessingStatus,
    Profile,
    Retrieval,
    SessionStatus,
    SessionWithDocuments,
    StudySession,
    Topic,
    TopicsFromPlan,
    embedding_in,
    new_chunks,
)

Q = queries.load("study")

# The most neighbours one search returns (and hnsw.ef_search's ceiling in pgvector).
MAX_K = 1000


class ProfileRepository(Repository):
    INSERT_PROFILE = Q.insert_profile.returning(Profile)
    GET_PROFILE = Q.get_profile.returning(Profile)
    FIND_PROFILE_BY_EMAIL = Q.find_profile_by_email.returning(Profile)
    DELETE_PROFILE = Q.delete_profile

    async def create(self, email: str, password_hash: str) -> Profile:
        """A new profile; `password_hash` is the application's hash of the password
        (tether never sees the password). Conflict if the e-mail address is taken."""
        return await self._returning(self.INSERT_PROFILE, email=email, password_hash=password_hash)

    async def get(self, profile_id: uuid.UUID) -> Profile:
        return await self._get(self.GET_PROFILE, "study.profiles", id=profile_id)

    async def find_by_email(self, email: str) -> Profile | None:
        return await self._one(self.FIND_PROFILE_BY_EMAIL, email=email)

    async def delete(self, profile_id: uuid.UUID) -> bool:
        """Delete a profile and, by cascade, its sessions and all they hold."""
        return await self._execrows(self.DELETE_PROFILE, id=profile_id) > 0


class SessionRepository(Repository):
    INSERT_SESSION = Q.insert_session.returning(StudySession)
    GET_SESSION = Q.get_session.returning(StudySession)
    SESSION_WITH_DOCUMENTS = Q.session_with_documents.returning(SessionWithDocuments)
    SESSIONS_PAGE = Q.sessions_page.returning(StudySession)
    MOVE_SESSION = Q.move_session.returning(StudySession)
    SESSION_STATUS = Q.session_status
    SET_DRAFT_PLAN = Q.set_draft_plan.returning(StudySession)
    DELETE_SESSION = Q.delete_session

    async def create(
        self, profile_id: uuid.UUID, title: str, description: str | None = None
    ) -> StudySession:
        """A new session of the profile, UPLOADING."""
        return await self._returning(
            self.INSERT_SESSION, profile_id=profile_id, title=title, description=description
        )

    async def get(self, session_id: uuid.UUID) -> StudySession:
        return await self._get(self.GET_SESSION, "study.study_sessions", id=session_id)

    async def with_documents(self, session_id: uuid.UUID) -> SessionWithDocuments:
        """The session and its documents (without their text), in one round trip."""
        return await self._get(self.SESSION_WITH_DOCUMENTS, "study.study_sessions", id=session_id)

    async def page_of_profile(
        self, profile_id: uuid.UUID, *, limit: int = 20, after: str | None = None
    ) -> Page[StudySession]:
        """A profile's sessions, newest first; `after` is the previous page's `next`."""
        return await self._page(
            self.SESSIONS_PAGE,
            key=("created_at", "id"),
            limit=limit,
            after=after,
            profile_id=profile_id,
        )

    async def move(
        self,
        session_id: uuid.UUID,
        from_status: SessionStatus,
        to_status: SessionStatus,
    ) -> StudySession:
        """Compare-and-set: move the session from `from_status` to `to_status`.

        StatusChanged (a Conflict) if it is not in `from_status` (another writer moved
        it first); StatusMoveRefused (an InvalidValue) if the database does not allow
        the move; NotFound if there is no such session.
        """
        moved = await self._one(
            self.MOVE_SESSION, id=session_id, from_status=from_status, to_status=to_status
        )
        if moved is not None:
            return moved
        current = await self._val(self.SESSION_STATUS, id=session_id)
        if current is None:
            raise NotFound("study.study_sessions: no row matches", table="study.study_sessions")
        raise StatusChanged(
            f"study.study_sessions: the session is {current}, not {SessionStatus(from_status)} "
            "(another writer moved it first); read it again and decide",
            current=SessionStatus(current),
            table="study.study_sessions",
        )

    async def set_draft_plan(
        self, session_id: uuid.UUID, draft_plan: dict[str, Any] | None
    ) -> StudySession:
        """Store the draft plan (the AI's, or the student's edit of it); None clears it."""
        return await self._get(
            self.SET_DRAFT_PLAN, "study.study_sessions", id=session_id, draft_plan=draft_plan
        )

    async def delete(self, session_id: uuid.UUID) -> bool:
        """Delete a session and, by cascade, its documents, topics, chats and chunks."""
        return await self._execrows(self.DELETE_SESSION, id=session_id) > 0


class DocumentRepository(Repository):
    INSERT_DOCUMENT = Q.insert_document.returning(Document)
    GET_DOCUMENT = Q.get_document.returning(Document)
    SET_DOCUMENT_TEXT = Q.set_document_text.returning(Document)
    SET_PROCESSING_STATUS = Q.set_processing_status.returning(Document)
    DELETE_DOCUMENT = Q.delete_document

    async def create(
        self,
        session_id: uuid.UUID,
        file_name: str,
        file_path: str,
        *,
        file_description: str | None = None,
        content_text: str | None = None,
    ) -> Document:
        return await self._returning(
            self.INSERT_DOCUMENT,
            session_id=session_id,
            file_name=file_name,
            file_path=file_path,
            file_description=file_description,
            content_text=content_text,
        )

    async def get(self, document_id: uuid.UUID) -> Document:
        return await self._get(self.GET_DOCUMENT, "study.documents", id=document_id)

    async def set_text(
        self,
        document_id: uuid.UUID,
        content_text: str | None,
        processing_status: ProcessingStatus = ProcessingStatus.COMPLETED,
    ) -> Document:
        """The document's extracted text (its length follows) and its processing status."""
        return await self._get(
            self.SET_DOCUMENT_TEXT,
            "study.documents",
            id=document_id,
            content_text=content_text,
            processing_status=processing_status,
        )

    async def set_status(
        self, document_id: uuid.UUID, processing_status: ProcessingStatus
    ) -> Document:
        return await self._get(
            self.SET_PROCESSING_STATUS,
            "study.documents",
            id=document_id,
            processing_status=processing_status,
        )

    async def delete(self, document_id: uuid.UUID) -> bool:
        """Delete a document and, by cascade, its chunks."""
        return await self._execrows(self.DELETE_DOCUMENT, id=document_id) > 0


class TopicRepository(Repository):
    INSERT_TOPICS_FROM_DRAFT_PLAN = Q.insert_topics_from_draft_plan.returning(TopicsFromPlan)
    LIST_TOPICS = Q.list_topics.returning(Topic)
    REORDER_TOPICS = Q.reorder_topics.returning(Topic)
    COMPLETE_TOPIC = Q.complete_topic.returning(Topic)
    DELETE_TOPIC = Q.delete_topic

    async def create_from_draft_plan(self, session_id: uuid.UUID) -> list[Topic]:
        """The topics of the session's draft plan, made in one statement, in the plan's
        order. NotFound without the session; InvalidValue without a draft plan;
        Conflict (topics_session_id_order_index_key) if the session has topics already."""
        made = await self._returning(self.INSERT_TOPICS_FROM_DRAFT_PLAN, session_id=session_id)
        if not made.session_found:
            raise NotFound("study.study_sessions: no row matches", table="study.study_sessions")
        if not made.has_draft_plan:
            raise InvalidValue(
                "study.study_sessions: the session has no draft plan to make topics from",
                table="study.study_sessions",
            )
        return list(made.topics)

    async def reorder(self, session_id: uuid.UUID, topic_ids: Sequence[uuid.UUID]) -> list[Topic]:
        """Give every topic of the session its place in `topic_ids`, in one statement.

        InvalidValue, and nothing changes, unless `topic_ids` names each topic of the
        session exactly once.
        """
        moved = await self._many(self.REORDER_TOPICS, session_id=session_id, topic_ids=topic_ids)
        if len(moved) != len(topic_ids):
            raise InvalidValue(
                "study.topics: reorder takes each topic of the session exactly once",
                table="study.topics",
            )
        return moved

    async def complete(self, topic_id: uuid.UUID, completed: bool = True) -> Topic:
        return await self._get(
            self.COMPLETE_TOPIC, "study.topics", id=topic_id, is_completed=completed
        )

    async def delete(self, topic_id: uuid.UUID) -> bool:
        """Delete a topic: its chat goes with it, and its id leaves every chunk's
        related_topic_ids (the database does both)."""
        return await self._execrows(self.DELETE_TOPIC, id=topic_id) > 0

    async def of_session(self, session_id: uuid.UUID) -> list[Topic]:
        """The session's topics in their order."""
        return await self._many(self.LIST_TOPICS, session_id=session_id)


class ChatRepository(Repository):
    OPEN_GENERAL_CHAT = Q.open_general_chat.returning(Chat)
    OPEN_TOPIC_CHAT = Q.open_topic_chat.returning(Chat)
    OPEN_TOPIC_CHATS = Q.open_topic_chats.returning(Chat)
    LIST_CHATS = Q.list_chats.returning(Chat)
    START_CHAT = Q.start_chat.returning(Chat)

    async def general(self, session_id: uuid.UUID) -> Chat:
        """The session's one general chat, made on first use (concurrent callers get
        the same chat). MissingReference if the session does not exist."""
        return await self._returning(self.OPEN_GENERAL_CHAT, session_id=session_id)

    async def for_topic(self, topic_id: uuid.UUID) -> Chat:
        """The topic's one chat, made on first use; NotFound without the topic."""
        return await self._get(self.OPEN_TOPIC_CHAT, "study.topics", topic_id=topic_id)

    async def for_topics(self, session_id: uuid.UUID) -> list[Chat]:
        """A chat for every topic of the session (made where missing), in topic order."""
        return await self._many(self.OPEN_TOPIC_CHATS, session_id=session_id)

    async def of_session(self, session_id: uuid.UUID) -> list[Chat]:
        """The session's chats: the general one first, then the topics' in topic order."""
        return await self._many(self.LIST_CHATS, session_id=session_id)

    async def start(self, chat_id: uuid.UUID) -> Chat:
        return await self._get(self.START_CHAT, "study.chats", id=chat_id)


class MessageRepository(Repository):
    INSERT_MESSAGE = Q.insert_message.returning(Message)
    MESSAGES_PAGE = Q.messages_page.returning(Message)

    async def append(self, chat_id: uuid.UUID, role: MessageRole, content: str) -> Message:
        """Add a message (role user, assistant or system) after the chat's last one."""
        return await self._returning(
            self.INSERT_MESSAGE, chat_id=chat_id, role=role, content=content
        )

    async def page_of_chat(
        self, chat_id: uuid.UUID, *, limit: int = 50, after: str | None = None
    ) -> Page[Message]:
        """A chat's messages in order; `after` is the previous page's `next`."""
        return await self._page(
            self.MESSAGES_PAGE, key=("seq",), limit=limit, after=after, chat_id=chat_id
        )


class ChunkRepository(Repository):
    COPY_CHUNKS = Q.copy_chunks
    CHUNKS_OF_DOCUMENT = Q.chunks_of_document.returning(Chunk)
    CHUNKS_OF_SESSION = Q.chunks_of_session.returning(Chunk)
    RELATE_CHUNK = Q.relate_chunk.returning(Chunk)
    DELETE_DOCUMENT_CHUNKS = Q.delete_document_chunks
    NEAREST_CHUNKS = Q.nearest_chunks.returning(Retrieval)
    NEAREST_RELATED_CHUNKS = Q.nearest_related_chunks.returning(Retrieval)

    async def write(
        self, session_id: uuid.UUID, document_id: uuid.UUID, chunks: Iterable[NewChunk]
    ) -> int:
        """Write a document's chunks by binary COPY, all or none; return how many.

        The database checks each chunk's document (in the session), parent (a PARENT
        of the same document) and related topics (of the session), once per COPY.
        """
        rows = [
            (
                chunk.id,
                document_id,
                session_id,
                chunk.parent_chunk_id,
                chunk.chunk_text,
                chunk.embedding,
                chunk.type,
                chunk.related_topic_ids,
            )
            for chunk in new_chunks(chunks)
        ]
        return await self._copy(self.COPY_CHUNKS, rows)

    async def of_document(self, document_id: uuid.UUID) -> list[Chunk]:
        """A document's chunks, parents first, embeddings as numpy arrays."""
        return await self._many(self.CHUNKS_OF_DOCUMENT, document_id=document_id)

    def stream(self, session_id: uuid.UUID, prefetch: int = 500) -> AsyncIterator[Chunk]:
        """Every chunk of a session through a server-side cursor, `prefetch` at a time."""
        return self._stream(self.CHUNKS_OF_SESSION, prefetch=prefetch, session_id=session_id)

    async def relate(self, chunk_id: uuid.UUID, topic_ids: Sequence[uuid.UUID]) -> Chunk:
        """Replace a chunk's related topics (each a topic of its session)."""
        return await self._get(
            self.RELATE_CHUNK, "study.document_chunks", id=chunk_id, topic_ids=list(topic_ids)
        )

    async def delete_of_document(self, document_id: uuid.UUID) -> int:
        """Delete every chunk of a document (to chunk it again); return how many."""
        return await self._execrows(self.DELETE_DOCUMENT_CHUNKS, document_id=document_id)

    async def search(
        self,
        session_id: uuid.UUID,
        query: Any,
        k: int = 10,
        *,
        topic_ids: Sequence[uuid.UUID] | None = None,
        exact: bool = False,
    ) -> Retrieval:
        """The k chunks of the session nearest to `query` (an embedding) by cosine
        distance, each with its parent chunk, in one round trip.

        `topic_ids`: only chunks related to any of these topics. `exact`: compare every
        chunk of the slice, whatever its size (otherwise the database picks exact
        search or the HNSW index by the slice's size, see docs/study.md). Fewer than
        k hits (`Retrieval.complete` false) only when fewer than k chunks qualify.
        """
        if type(k) is not int or not 1 <= k <= MAX_K:
            raise InvalidValue(
                f"study.document_chunks: k is between 1 and {MAX_K}",
                table="study.document_chunks",
            )
        vector = embedding_in(query)
        if not vector.any():
            raise InvalidValue(
                "study.document_chunks: a zero vector has no direction to search in",
                table="study.document_chunks",
            )
        if topic_ids is None:
            return await self._returning(
                self.NEAREST_CHUNKS, session_id=session_id, query=vector, k=k, exact=exact
            )
        return await self._returning(
            self.NEAREST_RELATED_CHUNKS,
            session_id=session_id,
            query=vector,
            k=k,
            exact=exact,
            topic_ids=list(topic_ids),
        )
