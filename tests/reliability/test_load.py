"""Many concurrent writers over one pool of 10 connections. After each race the
invariants are counted with SQL written here: one feedback per generation, only whole
generations, no orphans, nothing left of a deleted user."""

import asyncio
import random

import pytest

from planner.reliability import (
    DAYS,
    DOMAIN,
    TASKS_PER_DAY,
    assert_whole_generations,
    generation,
)
from tether import Conflict, MissingReference
from tether.planner import (
    FeedbackRepository,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)

pytestmark = pytest.mark.reliability

POOL = 10  # tether_db's pool: Database's default max_size
SUBMITTERS = 40  # feedback for one generation, at once
CREATORS, DELETERS, READERS, STUDENTS = 30, 15, 10, 3  # generations side by side
WRITERS = 30  # writing plans for a user being deleted


@pytest.fixture(autouse=True)
def _pool_of_ten(tether_db):
    assert tether_db.pool.get_max_size() == POOL


async def test_concurrent_feedback_for_one_generation_keeps_exactly_one(tether_db, sql):
    john = await UserRepository(tether_db).create("john@example.com")
    subject = await SubjectRepository(tether_db).create(john.id, "Calculus")
    made = await PlanRepository(tether_db).create_generation(john.id, generation([subject.id], 0))

    results = await asyncio.gather(
        *(
            FeedbackRepository(tether_db).submit(john.id, made, f"feedback {i}")
            for i in range(SUBMITTERS)
        ),
        return_exceptions=True,
    )

    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == SUBMITTERS - 1
    assert {c.constraint for c in conflicts} == {"uc_user_generation_feedback"}
    assert all(not isinstance(r, BaseException) or isinstance(r, Conflict) for r in results)
    stored = await sql.fetch(
        "select content from planner.feedback where user_id = $1 and generation_id = $2",
        john.id,
        made,
    )
    winner = next(r for r in results if not isinstance(r, BaseException))
    assert [row["content"] for row in stored] == [winner.content]


async def test_generations_created_and_deleted_side_by_side_stay_whole(tether_db, sql):
    owners = []
    for u in range(STUDENTS):
        user = await UserRepository(tether_db).create(f"student{u}@example.com")
        subjects = [await SubjectRepository(tether_db).create(user.id, f"S{s}") for s in range(2)]
        owners.append((user.id, [s.id for s in subjects]))
    plans = PlanRepository(tether_db)
    created, deleted_plans, calendars = [], [], []
    done = asyncio.Event()

    async def create(i: int) -> None:
        user_id, subject_ids = owners[i % STUDENTS]
        created.append(await plans.create_generation(user_id, generation(subject_ids, i)))

    async def delete(i: int) -> None:
        user_id = owners[i % STUDENTS][0]
        while not done.is_set():
            generations = (await plans.page_of_user(user_id, limit=CREATORS)).items
            if generations:
                victim = random.choice(generations).generation_id
                deleted_plans.append(await plans.delete_generation(user_id, victim))
                return
            await asyncio.sleep(0.005)

    async def read(i: int) -> None:
        while not done.is_set():
            calendar = await plans.latest_calendar(owners[i % STUDENTS][0])
            if calendar is not None:
                calendars.append(calendar)
            await asyncio.sleep(0.005)

    async def create_all() -> None:
        await asyncio.gather(*(create(i) for i in range(CREATORS)))
        done.set()

    await asyncio.gather(
        create_all(),
        *(delete(i) for i in range(DELETERS)),
        *(read(i) for i in range(READERS)),
    )

    # Deleting a generation another deleter already took removes nothing, never a part.
    assert set(deleted_plans) <= {0, DAYS}
    gone = deleted_plans.count(DAYS)
    assert gone > 0
    await assert_whole_generations(sql)
    surviving = await sql.fetchval("select count(distinct generation_id) from planner.plans")
    assert surviving == len(created) - gone == CREATORS - gone
    assert await sql.fetchval("select count(*) from planner.ai_tasks") == (
        surviving * DAYS * TASKS_PER_DAY
    )
    # Every calendar read mid-race was a whole generation too.
    assert calendars
    assert all(
        len(c.days) == DAYS and all(len(d.tasks) == TASKS_PER_DAY for d in c.days)
        for c in calendars
    )


async def test_a_user_deleted_while_plans_are_written_leaves_nothing(tether_db, sql):
    users = UserRepository(tether_db)
    doomed = await users.create("doomed@example.com")
    bystander = await users.create("bystander@example.com")
    doomed_subject = await SubjectRepository(tether_db).create(doomed.id, "Doomed")
    bystander_subject = await SubjectRepository(tether_db).create(bystander.id, "Kept")
    plans = PlanRepository(tether_db)
    written, refused, bystander_written = [], [], []
    enough = asyncio.Event()  # the deletion comes while writes are in flight

    finished = []  # writers that wrote all their plans before the deletion took the user

    async def write_until_refused(i: int) -> None:
        for serial in range(50):
            try:
                written.append(
                    await plans.create_generation(
                        doomed.id, generation([doomed_subject.id], serial)
                    )
                )
            except Exception as error:  # judged below: must be a MissingReference
                refused.append(error)
                return
            if len(written) >= 10:
                enough.set()
            bystander_written.append(
                await plans.create_generation(
                    bystander.id, generation([bystander_subject.id], serial)
                )
            )
        finished.append(i)

    async def delete_user() -> None:
        await enough.wait()
        assert await users.delete(doomed.id)

    await asyncio.gather(delete_user(), *(write_until_refused(i) for i in range(WRITERS)))

    # Writers in flight ran into the deletion, each as a MissingReference naming its
    # rule; a writer may finish first (the DELETE waits for the key-share locks of the
    # inserts in flight, and new ones may pass it), but none ends any other way.
    assert refused and len(refused) + len(finished) == WRITERS
    assert all(isinstance(e, MissingReference) for e in refused), refused
    assert {e.constraint for e in refused} <= {"plans_user_id_fkey", "ai_tasks_subject_id_fkey"}
    # Nothing of the deleted user anywhere; the bystander's writes are all there, whole.
    left = {
        row["table_name"]: row["count"] for row in await sql.fetch(DOMAIN.rows_of_owner, doomed.id)
    }
    assert set(left.values()) == {0}, left
    await assert_whole_generations(sql)
    kept = await sql.fetchval(
        "select count(distinct generation_id) from planner.plans where user_id = $1", bystander.id
    )
    assert kept == len(bystander_written) > 0
