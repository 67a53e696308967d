"""The study domain's records: one attrs class per result shape, fields in column order.

Embeddings come out as numpy arrays (float32, 768 values) and go in as numpy
arrays; statuses, types and roles come out as the StrEnums below, which compare equal
to their labels ("ACTIVE" == SessionStatus.ACTIVE).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import field, frozen
from pgvector import Vector

from tether.errors import InvalidValue
from tether.records import all_of, builder, is_a, rows_of

# The length of every embedding: `vector(768)` in migrations/study (a test holds
# the two together).
EMBEDDING_DIMENSIONS = 768

Embedding = npt.NDArray[np.float32]


class SessionStatus(enum.StrEnum):
    """`study.session_status`, in the order a session moves through it."""

    UPLOADING = "UPLOADING"
    GENERATING_PLAN = "GENERATING_PLAN"
    EDITING_PLAN = "EDITING_PLAN"
    CHUNKING = "CHUNKING"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"


class ProcessingStatus(enum.StrEnum):
    """`study.processing_status`: where the processing of a document stands."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ChatType(enum.StrEnum):
    """`study.chat_type`: the session's general chat, or a topic's."""

    GENERAL = "GENERAL"
    TOPIC = "TOPIC"


class ChunkType(enum.StrEnum):
    """`study.chunk_type`: a PARENT chunk holds CHILD chunks (small-to-big retrieval)."""

    PARENT = "PARENT"
    CHILD = "CHILD"


class MessageRole(enum.StrEnum):
    """`study.messages.role`: who wrote a chat's message."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


def embedding_in(value: Any, table: str = "study.document_chunks") -> Embedding:
    """`value` as the embedding tether sends: a 1-D numpy array of EMBEDDING_DIMENSIONS
    finite numbers, as float32. InvalidValue naming `table` (never the values) otherwise."""
    if not isinstance(value, np.ndarray) or value.ndim != 1:
        raise InvalidValue(
            f"{table}: an embedding is a 1-D numpy array, not {type(value).__name__}",
            table=table,
        )
    if value.shape[0] != EMBEDDING_DIMENSIONS or not np.issubdtype(value.dtype, np.number):
        raise InvalidValue(
            f"{table}: an embedding holds {EMBEDDING_DIMENSIONS} numbers "
            f"(this one: {value.shape[0]} of {value.dtype})",
            table=table,
        )
    vector = value.astype(np.float32, copy=False)
    if not np.isfinite(vector).all():
        raise InvalidValue(f"{table}: an embedding holds finite numbers only", table=table)
    return vector


def _embedding_out(value: Vector | np.ndarray | None) -> Embedding | None:
    if value is None or isinstance(value, np.ndarray):
        return value
    array: Embedding = value.to_numpy()
    return array


def _uuids(values: Iterable[uuid.UUID | str] | None) -> tuple[uuid.UUID, ...]:
    """Ids as uuids, also from their text (as they travel inside an anonymous row)."""
    if values is None:
        return ()
    return tuple([v if isinstance(v, uuid.UUID) else uuid.UUID(v) for v in values])


def _texts(values: Iterable[str] | None) -> tuple[str, ...]:
    return () if values is None else tuple(values)


@frozen
class Profile:
    id: uuid.UUID
    email: str
    password_hash: str = field(repr=False)
    created_at: dt.datetime


@frozen
class StudySession:
    id: uuid.UUID
    profile_id: uuid.UUID
    title: str
    description: str | None
    status: SessionStatus = field(converter=SessionStatus)
    draft_plan: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime


@frozen
class DocumentInfo:
    """A document as its session lists it: everything but its text."""

    id: uuid.UUID
    session_id: uuid.UUID
    file_name: str
    file_path: str
    file_description: str | None
    content_length: int
    processing_status: ProcessingStatus = field(converter=ProcessingStatus)
    created_at: dt.datetime


def _document_infos(rows: Iterable[Any] | None) -> tuple[DocumentInfo, ...]:
    return rows_of(DocumentInfo, rows)


def _study_session(row: Any) -> StudySession:
    return row if isinstance(row, StudySession) else builder(StudySession).one(row)


@frozen
class SessionWithDocuments:
    """A session and its documents (oldest first), read in one round trip."""

    session: StudySession = field(converter=_study_session)
    documents: tuple[DocumentInfo, ...] = field(converter=_document_infos)


@frozen
class Document:
    id: uuid.UUID
    session_id: uuid.UUID
    file_name: str
    file_path: str
    file_description: str | None
    content_text: str | None = field(repr=False)
    content_length: int
    processing_status: ProcessingStatus = field(converter=ProcessingStatus)
    created_at: dt.datetime


@frozen
class Topic:
    id: uuid.UUID
    session_id: uuid.UUID
    title: str
    subtopics: tuple[str, ...] = field(converter=_texts)
    order_index: int
    is_completed: bool
    created_at: dt.datetime
    updated_at: dt.datetime


def _topics(rows: Iterable[Any] | None) -> tuple[Topic, ...]:
    return rows_of(Topic, rows)


@frozen
class TopicsFromPlan:
    """What making topics from a draft plan found: the session, its plan, the topics made."""

    session_found: bool
    has_draft_plan: bool
    topics: tuple[Topic, ...] = field(converter=_topics)


@frozen
class Chat:
    id: uuid.UUID
    session_id: uuid.UUID
    type: ChatType = field(converter=ChatType)
    topic_id: uuid.UUID | None
    is_started: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@frozen
class Message:
    id: uuid.UUID
    chat_id: uuid.UUID
    role: MessageRole = field(converter=MessageRole)
    content: str
    created_at: dt.datetime
    seq: int  # the order of the chat's messages (not in the seed: see docs/study.md)


@frozen
class Chunk:
    id: uuid.UUID
    document_id: uuid.UUID
    session_id: uuid.UUID
    parent_chunk_id: uuid.UUID | None
    chunk_text: str
    embedding: Embedding | None = field(converter=_embedding_out, repr=False, eq=False)
    type: ChunkType = field(converter=ChunkType)
    related_topic_ids: tuple[uuid.UUID, ...] = field(converter=_uuids)
    created_at: dt.datetime


def _new_id() -> uuid.UUID:
    return uuid.uuid4()


def _optional_embedding(value: Any) -> Embedding | None:
    return None if value is None else embedding_in(value)


def _topic_ids(values: Iterable[Any]) -> tuple[uuid.UUID, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, uuid.UUID):
            raise InvalidValue(
                f"study.document_chunks: related_topic_ids holds topic ids (UUID), "
                f"not {type(value).__name__}",
                table="study.document_chunks",
            )
    return found


@frozen
class NewChunk:
    """A chunk to write. Its id is made here, so that a CHILD can name its PARENT in
    the same write: `parent = NewChunk.parent(...)`, `NewChunk.child(parent, ...)`."""

    chunk_text: str = field(validator=is_a(str, "study.document_chunks"))
    embedding: Embedding | None = field(default=None, converter=_optional_embedding, eq=False)
    type: ChunkType = field(default=ChunkType.PARENT, converter=ChunkType)
    parent_chunk_id: uuid.UUID | None = field(default=None)
    related_topic_ids: tuple[uuid.UUID, ...] = field(default=(), converter=_topic_ids)
    id: uuid.UUID = field(factory=_new_id, validator=is_a(uuid.UUID, "study.document_chunks"))

    @parent_chunk_id.validator
    def _check_parent(self, _: Any, value: Any) -> None:
        if value is not None and not isinstance(value, uuid.UUID):
            raise InvalidValue(
                f"study.document_chunks: parent_chunk_id must be UUID, not {type(value).__name__}",
                table="study.document_chunks",
            )

    @classmethod
    def parent(
        cls,
        chunk_text: str,
        embedding: Embedding | None = None,
        related_topic_ids: Sequence[uuid.UUID] = (),
    ) -> NewChunk:
        return cls(chunk_text, embedding, ChunkType.PARENT, None, tuple(related_topic_ids))

    @classmethod
    def child(
        cls,
        parent: NewChunk,
        chunk_text: str,
        embedding: Embedding | None = None,
        related_topic_ids: Sequence[uuid.UUID] = (),
    ) -> NewChunk:
        return cls(chunk_text, embedding, ChunkType.CHILD, parent.id, tuple(related_topic_ids))


def new_chunks(items: Iterable[Any]) -> tuple[NewChunk, ...]:
    return all_of(NewChunk, "study.document_chunks", items)


@frozen
class Hit:
    """A chunk found by similarity, and the PARENT chunk around it (None for a PARENT)."""

    id: uuid.UUID
    document_id: uuid.UUID
    type: ChunkType = field(converter=ChunkType)
    chunk_text: str
    distance: float  # cosine distance to the question: 0 same direction, 2 opposite
    related_topic_ids: tuple[uuid.UUID, ...] = field(converter=_uuids)
    parent_id: uuid.UUID | None
    parent_text: str | None

    @property
    def context(self) -> str:
        """The text to hand a model: the parent's (small-to-big), or the chunk's own."""
        return self.parent_text if self.parent_text is not None else self.chunk_text


def _hits(rows: Iterable[Any] | None) -> tuple[Hit, ...]:
    return rows_of(Hit, rows)


@frozen
class Retrieval:
    """The nearest chunks, nearest first, and how they were found.

    `method` is "exact" (every chunk of the slice compared), "hnsw" (the index, with
    pgvector's iterative scan) or "exact_fallback" (the index came back short, so
    the slice was read after all). `complete` is false only when fewer than k
    chunks could be found at all: the session (or the topics) hold fewer.
    """

    k: int
    method: str
    hits: tuple[Hit, ...] = field(converter=_hits)

    @property
    def complete(self) -> bool:
        return len(self.hits) == self.k

    def contexts(self) -> list[str]:
        """Each distinct context (parent text, or the chunk's own), nearest first."""
        seen: dict[uuid.UUID, str] = {}
        for hit in self.hits:
            seen.setdefault(hit.parent_id or hit.id, hit.context)
        return list(seen.values())
