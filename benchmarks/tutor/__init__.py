"""The tutor domain (seed 000): its fixtures, scenarios and figures.

Scenarios (benchmarks/harness.py's four contenders): a course's weeks, a page of a
long reading's chunks, a job enqueued, a job claimed and completed, 10,000 jobs and
10,000 chunks written in bulk, and a week deleted with everything below it.
Figures (figures.py): the job queue against pgqueuer and procrastinate (throughput
at equal batch sizes, a dead worker's job), the cost NOTIFY would add to each
enqueue, bulk writes against the seed's ORM style, audio streaming memory.
"""

from __future__ import annotations

from attrs import frozen

from ..harness import Connections, Scenario
from .figures import figures
from .fixtures import B, Syllabus, copy, load_course
from .scenarios import (
    CLAIM_KIND,
    BulkChunks,
    BulkEnqueue,
    ChunksPage,
    ClaimAndSucceed,
    DeleteWeek,
    EnqueueJob,
    WeeksOfCourse,
)

__all__ = ["SIZES", "figures", "scenarios"]


@frozen
class Sizes:
    courses: int  # courses the read scenarios cycle through
    long_reading: int  # chunks of the reading paged through
    claimable: int  # pending jobs the claim scenario drains (both passes: held and pooled)
    bulk: int  # rows of the bulk writes
    victim: Syllabus  # what the deleted week holds


# ~12,000 rows below the deleted week: 4 readings of 2,500 chunks, 20 conversations of
# 100 pieces of 4 KiB audio, a summary.
VICTIM = Syllabus(weeks=1, readings=4, chunks=2500, conversations=20, audio=100, audio_bytes=4096)
READER = Syllabus(weeks=12, readings=1, chunks=10, conversations=1, audio=2, audio_bytes=1024)

SIZES = {
    "full": Sizes(50, 5000, 80_000, 10_000, VICTIM),
    "quick": Sizes(20, 5000, 12_000, 10_000, VICTIM),
    "smoke": Sizes(2, 300, 100, 50, Syllabus(1, 2, 5, 2, 3, 256)),
}


async def scenarios(connections: Connections, sizes: Sizes) -> list[Scenario]:
    """Load the tutor fixtures (untimed) and return its scenarios."""
    setup = connections.setup
    courses = []
    for n in range(sizes.courses):
        weeks = await load_course(setup, f"READ-{n}", READER)
        courses.append(await setup.fetchval(B.course_of_week.sql, weeks[0]))
    [long_week] = await load_course(setup, "LONG", Syllabus(1, 1, sizes.long_reading, 0, 0, 256))
    [reading] = [r[0] for r in await setup.fetch(B.reading_ids.sql, [long_week])]
    long_course = await setup.fetchval(B.course_of_week.sql, long_week)
    [bulk_week] = await load_course(setup, "BULK", Syllabus(1, 1, 0, 0, 0, 256))
    [bulk_reading] = [r[0] for r in await setup.fetch(B.reading_ids.sql, [bulk_week])]
    bulk_course = await setup.fetchval(B.course_of_week.sql, bulk_week)
    await copy(setup, "jobs", ("kind",), [(CLAIM_KIND,) for _ in range(sizes.claimable)])
    return [
        WeeksOfCourse(connections, courses, READER.weeks),
        ChunksPage(connections, reading, long_course, sizes.long_reading),
        EnqueueJob(connections, long_week, long_course),
        ClaimAndSucceed(connections),
        BulkEnqueue(connections, sizes.bulk),
        BulkChunks(connections, bulk_reading, bulk_course, sizes.bulk),
        DeleteWeek(connections, sizes.victim),
    ]
