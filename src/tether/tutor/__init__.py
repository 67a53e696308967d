"""tutor (seed 000): courses of weekly readings cut into chunks, summaries, a job queue
that survives dead workers, and voice tutoring conversations with their audio."""

from tether.tutor.errors import AlreadyEnded, JobCancelled, LeaseLost
from tether.tutor.periodic import Cron, Every, Periodic
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
    QueueStats,
    Reading,
    Retry,
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
from tether.tutor.worker import stop_on_signals, work

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
    "Cron",
    "Every",
    "Job",
    "JobCancelled",
    "JobQueue",
    "JobStatus",
    "LeaseLost",
    "NewChunk",
    "NewJob",
    "Periodic",
    "QueueDepth",
    "QueueStats",
    "Reading",
    "ReadingRepository",
    "Retry",
    "Role",
    "Summary",
    "SummaryRepository",
    "User",
    "UserRepository",
    "Week",
    "WeekRepository",
    "stop_on_signals",
    "work",
]
