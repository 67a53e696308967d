"""tutor (seed 000): courses of weekly readings cut into chunks, summaries, a job queue
that survives dead workers, and voice tutoring conversations with their audio."""

from tether.tutor.errors import AlreadyEnded, LeaseLost
from tether.tutor.queue import JobQueue
from tether.tutor.records import (
    AudioBlob,
    AudioPiece,
    Chunk,
    Conversation,
    Course,
    Job,
    JobStatus,
    NewChunk,
    NewJob,
    QueueDepth,
    Reading,
    Role,
    Summary,
    User,
    Week,
)
from tether.tutor.repositories import (
    AudioRepository,
    ChunkRepository,
    ConversationRepository,
    CourseRepository,
    ReadingRepository,
    SummaryRepository,
    UserRepository,
    WeekRepository,
)
from tether.tutor.worker import work

__all__ = [
    "AlreadyEnded",
    "AudioBlob",
    "AudioPiece",
    "AudioRepository",
    "Chunk",
    "ChunkRepository",
    "Conversation",
    "ConversationRepository",
    "Course",
    "CourseRepository",
    "Job",
    "JobQueue",
    "JobStatus",
    "LeaseLost",
    "NewChunk",
    "NewJob",
    "QueueDepth",
    "Reading",
    "ReadingRepository",
    "Role",
    "Summary",
    "SummaryRepository",
    "User",
    "UserRepository",
    "Week",
    "WeekRepository",
    "work",
]
