"""The tutor's records: one attrs class per result shape, fields in column order.

Roles and job statuses come out as the StrEnums below, which compare equal to their
labels (JobStatus.PENDING == "pending").
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
from attrs import field, frozen

from tether.records import is_a


class Role(enum.StrEnum):
    """`tutor.users.role`."""

    STUDENT = "student"
    PROFESSOR = "professor"
    ADMIN = "admin"


class JobStatus(enum.StrEnum):
    """`tutor.jobs.status`, in the order a job moves through it."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@frozen
class User:
    id: int
    email: str
    name: str
    role: Role = field(converter=Role)
    created_at: dt.datetime


@frozen
class Course:
    id: int
    name: str
    code: str
    professor_id: int
    created_at: dt.datetime


@frozen
class Week:
    id: int
    course_id: int
    number: int
    title: str | None
    created_at: dt.datetime


@frozen
class Reading:
    id: int
    week_id: int
    filename: str
    file_path: str
    uploaded_at: dt.datetime


@frozen
class Chunk:
    id: int
    reading_id: int
    idx: int
    content: str
    meta: Any


@frozen
class NewChunk:
    """A chunk of a reading to write: its position (0, 1, ...), its text, and optional
    JSON metadata (page numbers, headings...)."""

    idx: int = field(validator=is_a(int, "tutor.chunks"))
    content: str = field(validator=is_a(str, "tutor.chunks"))
    meta: Any = None


@frozen
class Summary:
    id: int
    week_id: int
    created_by_id: int
    content: str
    created_at: dt.datetime
    updated_at: dt.datetime


@frozen
class Job:
    """A job as the queue holds it. A claimed job's `attempt` is its claim token:
    progress, success and failure are accepted only while that claim holds.

    `errors` holds the last 10 attempts' errors, oldest first, each a dict with
    `attempt`, `error` (at most 2,000 characters) and `at`; `cancel_reason` is set once
    the job was cancelled."""

    id: int
    kind: str
    status: JobStatus = field(converter=JobStatus)
    progress: int
    error: str | None
    week_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    payload: Any
    attempt: int
    lease_expires_at: dt.datetime | None
    priority: int
    run_at: dt.datetime
    max_attempts: int
    backoff: dt.timedelta
    backoff_cap: dt.timedelta
    dedup_key: str | None
    errors: list[dict[str, Any]]
    cancel_reason: str | None


@frozen
class Retry:
    """How a kind retries: at most `attempts` claims (a lapsed lease counts), retry n
    waiting `backoff * 2**(n-1)`, at most `cap`, times a jitter in [0.5, 1). The
    default runs a job once."""

    attempts: int = field(default=1, validator=is_a(int, "tutor.jobs"))
    backoff: dt.timedelta = field(
        default=dt.timedelta(seconds=1), validator=is_a(dt.timedelta, "tutor.jobs")
    )
    cap: dt.timedelta = field(
        default=dt.timedelta(hours=1), validator=is_a(dt.timedelta, "tutor.jobs")
    )


ONCE = Retry()


@frozen
class NewJob:
    """A job to enqueue with `enqueue_many`, due at once: its kind, the week it works
    on (if any), its JSON payload, and optionally its priority (higher first), its
    retries and a de-duplication key."""

    kind: str = field(validator=is_a(str, "tutor.jobs"))
    week_id: int | None = field(
        default=None, validator=attrs.validators.optional(is_a(int, "tutor.jobs"))
    )
    payload: Any = field(factory=dict)
    priority: int = field(default=0, validator=is_a(int, "tutor.jobs"))
    retry: Retry = field(default=ONCE, validator=is_a(Retry, "tutor.jobs"))
    dedup_key: str | None = field(
        default=None, validator=attrs.validators.optional(is_a(str, "tutor.jobs"))
    )


@frozen
class QueueDepth:
    kind: str
    status: JobStatus = field(converter=JobStatus)
    jobs: int


def _attempt_counts(counts: dict[str, int]) -> dict[int, int]:
    return {int(attempt): jobs for attempt, jobs in counts.items()}


@frozen
class QueueStats:
    """The queue's jobs of one kind in one status: how many, how many of the pending
    ones wait for a later `run_at` (`scheduled`), how long the longest due pending job
    has waited (seconds; None when none is due), and how many jobs had each number of
    attempts (`{attempt: jobs}`)."""

    kind: str
    status: JobStatus = field(converter=JobStatus)
    jobs: int
    scheduled: int
    oldest_due_seconds: float | None
    attempts: dict[int, int] = field(converter=_attempt_counts)


@frozen
class RenewedClaim:
    """A claim a heartbeat renewed, and whether its job was cancelled meanwhile."""

    id: int
    cancelled: bool


@frozen
class FinishedClaim:
    """A claim whose success was recorded: succeeded, or failed (it was cancelled)."""

    id: int
    succeeded: bool


@frozen
class Pruned:
    deleted: int
    last_id: int | None


@frozen
class Conversation:
    id: int
    user_id: int
    week_id: int
    session_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_seconds: int | None


@frozen
class AudioPiece:
    """A piece of a conversation's audio, without its bytes: `size` is their count."""

    id: int
    conversation_id: int
    recorded_at: dt.datetime
    duration_ms: int | None
    size: int


@frozen
class AudioBlob:
    """A piece of a conversation's audio with its bytes (kept out of the repr)."""

    id: int
    conversation_id: int
    blob_data: bytes = field(repr=False)
    recorded_at: dt.datetime
    duration_ms: int | None
