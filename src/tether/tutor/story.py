"""The tutor's demo story (seed 000), played by `tether demo tutor`.

Professor Ada's course has three weeks; the first week's reading is cut into
chunks (COPY) and read back a page at a time. Jobs to summarize and embed it
are drained by a worker that reports progress; a worker that dies mid-job
loses it to another after its lease, and its late success is refused. Ben
talks with the tutor about week 1, with audio streamed back in order. Then a
preview of what deleting week 1 would remove, and the delete itself, counted by
PostgreSQL: everything of the week goes, its jobs stay with week_id NULL.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from tether import queries
from tether.changes import preview, track
from tether.database import Database
from tether.demo import Out, RowCount, StoryLookups, changes_table, table
from tether.tutor.errors import LeaseLost
from tether.tutor.queue import JobQueue
from tether.tutor.records import Job, NewChunk, NewJob, Retry, Role
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

Q = queries.load("tutor")

START = dt.datetime(2026, 1, 13, 10, 0, tzinfo=dt.UTC)
READING = [
    "A perceptron weighs its inputs and fires above a threshold.",
    "Gradient descent moves the weights against the gradient of the loss.",
    "The learning rate sets the size of each step.",
    "Too large a rate overshoots; too small a rate crawls.",
    "Backpropagation computes every gradient in one backward pass.",
    "Overfitting: the model learns the noise of its training set.",
    "Regularization penalizes large weights.",
]


class Lookups(StoryLookups):
    """The story's own look-ups (sql/tutor/story.sql)."""

    ROWS_OF_COURSE = Q.rows_of_course.returning(RowCount)

    async def rows_of_course(self, course_id: int) -> str:
        return await self._rows_left(self.ROWS_OF_COURSE, course_id=course_id)


def jobs_table(jobs: list[Job]) -> str:
    return table(
        ("job", "kind", "status", "progress", "attempt", "week_id", "error"),
        [(j.id, j.kind, j.status, j.progress, j.attempt, j.week_id, j.error or "") for j in jobs],
    )


async def play(db: Database, out: Out) -> None:
    users, courses, weeks = UserRepository(db), CourseRepository(db), WeekRepository(db)
    out("\n== Professor Ada's course: three weeks ==")
    ada = await users.create("ada@example.com", "Ada Lovelace", Role.PROFESSOR)
    ben = await users.create("ben@example.com", "Ben")
    course = await courses.create(ada.id, "Machine Learning", "ML-101")
    titles = ["Perceptrons", "Gradient descent", "Regularization"]
    made = [await weeks.create(course.id, n, title) for n, title in enumerate(titles, 1)]
    week1 = made[0]
    out(table(("week", "title"), [(w.number, w.title) for w in await weeks.of_course(course.id)]))

    out("\n== Week 1's reading, cut into chunks (COPY), read a page at a time ==")
    reading = await ReadingRepository(db).create(week1.id, "perceptrons.pdf", "s3://ml-101/w1.pdf")
    chunks = ChunkRepository(db)
    written = await chunks.write(
        reading.id, [NewChunk(i, text, {"page": 1 + i // 3}) for i, text in enumerate(READING)]
    )
    out(f"{written} chunks written")
    page = await chunks.page_of_reading(reading.id, limit=4)
    while True:
        out(table(("idx", "page", "content"), [(c.idx, c.meta["page"], c.content) for c in page]))
        if page.next is None:
            break
        out(f"next page after cursor {page.next}")
        page = await chunks.page_of_reading(reading.id, limit=4, after=page.next)

    out("\n== Jobs for week 1, drained by a worker reporting progress ==")
    queue = JobQueue(db)
    summarize = await queue.enqueue("summarize", week1.id, {"reading_id": reading.id})
    await queue.enqueue_many(
        [NewJob("embed", week1.id, {"reading_id": reading.id, "part": n}) for n in (1, 2)]
    )
    while (job := await queue.claim_one(["summarize", "embed"])) is not None:
        await queue.progress(job, 50)
        if job.id == summarize.id:
            await SummaryRepository(db).create(
                week1.id, ada.id, "Perceptrons weigh inputs; learning moves the weights."
            )
        await queue.succeed(job)
    week1_jobs = await queue.of_week(week1.id)
    out(jobs_table(week1_jobs))

    out("\n== A worker dies mid-job: its lease lapses, another rescues the job ==")
    doomed = await queue.enqueue("transcribe", week1.id, retry=Retry(attempts=2))
    short = JobQueue(db, lease=dt.timedelta(milliseconds=200))
    zombie = await short.claim_one(["transcribe"])
    assert zombie is not None
    await short.progress(zombie, 40)
    out(f"worker A claims job {zombie.id} (attempt {zombie.attempt}), reports 40%, then hangs")
    rescued = None
    while rescued is None:  # worker B polls until A's lease lapses
        await asyncio.sleep(0.05)
        rescued = await queue.claim_one(["transcribe"])
    out(f"worker B claims job {rescued.id} again: attempt {rescued.attempt}")
    try:
        await short.succeed(zombie)
    except LeaseLost as refused:
        out(f"worker A wakes up and reports success: refused ({type(refused).__name__})")
    await queue.succeed(rescued)
    out(jobs_table([await queue.get(doomed.id)]))

    out("\n== Ben talks with the tutor about week 1; the audio streams back in order ==")
    conversations, audio = ConversationRepository(db), AudioRepository(db)
    talk = await conversations.start(ben.id, week1.id, "session-ben-1", started_at=START)
    for n in range(3):
        await audio.append(talk.id, bytes([n]) * 32_000, duration_ms=1000, recorded_at=START)
    talk = await conversations.end(talk.id, START + dt.timedelta(minutes=7, seconds=30))
    received = [blob async for blob in audio.stream(talk.id)]
    out(
        f"conversation {talk.session_id}: {talk.started_at:%H:%M:%S} to {talk.ended_at:%H:%M:%S}, "
        f"{talk.duration_seconds} s; audio: {len(received)} pieces, "
        f"{sum(len(b.blob_data) for b in received):,} bytes, in order: "
        f"{[b.blob_data[0] for b in received] == [0, 1, 2]}"
    )

    lookups = Lookups(db)
    out("\nML-101's rows: " + await lookups.rows_of_course(course.id))
    out("\n== What deleting week 1 would remove (a preview, rolled back) ==")
    out(changes_table(await preview(db, lambda conn: WeekRepository(conn).delete(week1.id))))
    out("ML-101's rows after the preview: " + await lookups.rows_of_course(course.id))

    out("\n== Delete week 1 ==")
    async with db.connection() as conn:
        async with track(conn) as changes:
            await WeekRepository(conn).delete(week1.id)
        out("what the database cascaded (pg_stat_xact_user_tables):")
        out(changes_table(changes))
    out("ML-101's rows left: " + await lookups.rows_of_course(course.id))
    kept = [await queue.get(job.id) for job in [*week1_jobs, doomed]]
    out("week 1's jobs are kept, with week_id NULL:")
    out(jobs_table(kept))
