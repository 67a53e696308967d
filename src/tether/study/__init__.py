"""study (seed 003): study sessions over uploaded documents: topics from a draft plan,
chats and messages, and document chunks with 768-d embeddings for retrieval."""

from tether.extras import missing

try:  # the study extra's: embeddings travel as numpy arrays (records, embedding)
    import numpy  # noqa: F401
except ModuleNotFoundError as error:
    raise missing("study", "tether.study", error) from error

from tether.study.errors import StatusChanged, StatusMoveRefused
from tether.study.records import (
    EMBEDDING_DIMENSIONS,
    Chat,
    ChatType,
    Chunk,
    ChunkType,
    Document,
    DocumentInfo,
    Hit,
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
)
from tether.study.repositories import (
    ChatRepository,
    ChunkRepository,
    DocumentRepository,
    MessageRepository,
    ProfileRepository,
    SessionRepository,
    TopicRepository,
)

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "Chat",
    "ChatRepository",
    "ChatType",
    "Chunk",
    "ChunkRepository",
    "ChunkType",
    "Document",
    "DocumentInfo",
    "DocumentRepository",
    "Hit",
    "Message",
    "MessageRepository",
    "MessageRole",
    "NewChunk",
    "ProcessingStatus",
    "Profile",
    "ProfileRepository",
    "Retrieval",
    "SessionRepository",
    "SessionStatus",
    "SessionWithDocuments",
    "StatusChanged",
    "StatusMoveRefused",
    "StudySession",
    "Topic",
    "TopicRepository",
]
