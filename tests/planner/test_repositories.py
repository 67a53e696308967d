"""The planner's repositories against a real database: the seed-001 calendar story with
exact row counts after each deletion, every refused write as the right tether error,
atomic generations, and racing feedback."""

import asyncio
import uuid
from functools import partial

import attrs
import pytest

import domain_checks
from tether import Conflict, InvalidValue, MissingReference, NotFound
from tether.planner import (
    DayPlan,
    FeedbackRepository,
    FeedbackTaken,
    NewTask,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)
from tether.planner.story import DAY1, DAY2, DAY3, build_first_generation, build_regeneration
from tether.testing import expect_changes

counts = partial(domain_checks.counts, schema="planner")


@pytest.fixture
async def story(tether_db):
    """John's seed-001 calendar, as the demo plays it: three subjects, a first generation
    of three days and six tasks, feedback on it, and a regenerated first day. Mary has
    her own plan."""
    seed = await build_first_generation(tether_db)
    await build_regeneration(tether_db, seed)
    return {"db": tether_db, **attrs.asdict(seed, recurse=False)}


async def test_the_latest_generation_reads_as_a_calendar(story):
    plans = PlanRepository(story["db"])
    calendar = await plans.latest_calendar(story["john"].id)
    assert calendar.generation_id == story["second"]
    assert [day.date for day in calendar.days] == [DAY1]
    assert [
        (t.subject_name, t.ai_task_name, t.difficulty, t.priority) for t in calendar.days[0].tasks
    ] == [
        ("Calculus", "Calculus Chapter 3", 3, 6),
        ("Physics", "Physics Prep", 2, 4),
    ]
    assert await plans.latest_calendar(-1) is None


async def test_the_first_generation_stays_for_history(story):
    page = await PlanRepository(story["db"]).page_of_user(story["john"].id)
    assert [(g.generation_id, g.plan_count, g.task_count, g.has_feedback) for g in page] == [
        (story["second"], 1, 2, False),
        (story["first"], 3, 6, True),
    ]
    assert (page.items[1].first_date, page.items[1].last_date) == (DAY1, DAY3)
    assert page.next is None


async def test_generations_page_newest_first_with_a_cursor(story):
    db, john = story["db"], story["john"]
    plans = PlanRepository(db)
    third = await plans.create_generation(john.id, [DayPlan(DAY2), DayPlan(DAY3)])
    first_page = await plans.page_of_user(john.id, limit=2)
    assert [g.generation_id for g in first_page] == [third, story["second"]]
    assert first_page.items[0].plan_count == 2 and first_page.items[0].task_count == 0
    assert first_page.next is not None
    second_page = await plans.page_of_user(john.id, limit=2, after=first_page.next)
    assert [g.generation_id for g in second_page] == [story["first"]]
    assert second_page.next is None
    with pytest.raises(InvalidValue, match="cursor"):
        await plans.page_of_user(john.id, after="not-a-cursor")
    with pytest.raises(InvalidValue, match="1 to 1000"):
        await plans.page_of_user(john.id, limit=0)


async def test_generations_written_side_by_side_are_each_listed_once(story):
    """Two generations written at once can interleave their plan ids: each is still
    listed once, ordered by its newest plan."""
    db, john = story["db"], story["john"]
    a, b = uuid.uuid4(), uuid.uuid4()
    for generation, date in ((a, DAY1), (b, DAY1), (a, DAY2), (b, DAY2), (a, DAY3)):
        await db.pool.execute(
            "insert into planner.plans (user_id, date, generation_id) values ($1, $2, $3)",
            john.id,
            date,
            generation,
        )
    plans = PlanRepository(db)
    listed, after = [], None
    while True:
        page = await plans.page_of_user(john.id, limit=1, after=after)
        listed += [(g.generation_id, g.plan_count) for g in page]
        if page.next is None:
            break
        after = page.next
    assert listed == [(a, 3), (b, 2), (story["second"], 1), (story["first"], 3)]
    calendar = await plans.latest_calendar(john.id)
    assert calendar is not None and calendar.generation_id == a


async def test_the_calendar_orders_days_by_date_and_tasks_by_priority(story):
    db, john = story["db"], story["john"]
    await PlanRepository(db).delete_generation(john.id, story["second"])
    calendar = await PlanRepository(db).latest_calendar(john.id)
    assert calendar.generation_id == story["first"]
    assert [(day.date, [t.priority for t in day.tasks]) for day in calendar.days] == [
        (DAY1, [9, 8, 5]),
        (DAY2, [7, 6]),
        (DAY3, [10]),
    ]


async def test_the_calendar_is_one_round_trip(story):
    """One statement reaches the server for the whole calendar (after asyncpg's one-off
    introspection of the nested row types on a new connection)."""
    async with story["db"].connection() as conn:
        plans = PlanRepository(conn)
        await plans.latest_calendar(story["john"].id)
        sent = []

        def log(record):
            sent.append(record.query)

        conn.add_query_logger(log)
        calendar = await plans.latest_calendar(story["john"].id)
        conn.remove_query_logger(log)
    assert len(sent) == 1
    assert len(calendar.days[0].tasks) == 2


async def test_deleting_a_plan_deletes_its_tasks_and_keeps_the_feedback(story):
    db = story["db"]
    plan_id = await db.pool.fetchval(
        "select id from planner.plans where generation_id = $1 and date = $2",
        story["first"],
        DAY1,
    )
    async with (
        db.connection() as conn,
        expect_changes(conn, deleted={"planner.plans": 1, "planner.ai_tasks": 3}, updated={}),
    ):
        assert await PlanRepository(conn).delete_plan(plan_id)
    assert await counts(db) == {"users": 2, "subjects": 4, "plans": 4, "ai_tasks": 6, "feedback": 1}
    assert not await PlanRepository(db).delete_plan(plan_id)


async def test_deleting_a_generation_deletes_its_plans_and_tasks_only(story):
    db, john = story["db"], story["john"]
    async with (
        db.connection() as conn,
        expect_changes(conn, deleted={"planner.plans": 3, "planner.ai_tasks": 6}, updated={}),
    ):
        assert await PlanRepository(conn).delete_generation(john.id, story["first"]) == 3
    assert await counts(db) == {"users": 2, "subjects": 4, "plans": 2, "ai_tasks": 3, "feedback": 1}


async def test_deleting_a_subject_deletes_its_tasks_in_every_generation(story):
    db = story["db"]
    async with (
        db.connection() as conn,
        expect_changes(conn, deleted={"planner.subjects": 1, "planner.ai_tasks": 3}, updated={}),
    ):
        assert await SubjectRepository(conn).delete(story["physics"].id)
    assert await counts(db) == {"users": 2, "subjects": 3, "plans": 5, "ai_tasks": 6, "feedback": 1}
    left = await db.pool.fetchval(
        "select count(*) from planner.ai_tasks where subject_id = $1", story["physics"].id
    )
    assert left == 0


async def test_deleting_a_user_deletes_everything_of_theirs_and_nothing_of_others(story):
    db = story["db"]
    async with (
        db.connection() as conn,
        expect_changes(
            conn,
            deleted={
                "planner.users": 1,
                "planner.subjects": 3,
                "planner.plans": 4,
                "planner.ai_tasks": 8,
                "planner.feedback": 1,
            },
            updated={},
        ),
    ):
        assert await UserRepository(conn).delete(story["john"].id)
    assert await counts(db) == {"users": 1, "subjects": 1, "plans": 1, "ai_tasks": 1, "feedback": 0}
    mary = await UserRepository(db).get(story["mary"].id)
    assert mary.email == "mary@example.com"
    with pytest.raises(NotFound, match=r"planner\.users"):
        await UserRepository(db).get(story["john"].id)


async def test_feedback_once_per_generation(story):
    db, john = story["db"], story["john"]
    with pytest.raises(FeedbackTaken) as refused:
        await FeedbackRepository(db).submit(john.id, story["first"], "Again!")
    assert isinstance(refused.value, Conflict)  # a service's 409 handler still catches it
    assert refused.value.constraint == "uc_user_generation_feedback"
    assert refused.value.table == "planner.feedback"
    assert "already given feedback on this generation" in str(refused.value)
    assert await counts(db) == {"users": 2, "subjects": 4, "plans": 5, "ai_tasks": 9, "feedback": 1}
    second = await FeedbackRepository(db).submit(john.id, story["second"], "Better.")
    latest = await FeedbackRepository(db).latest(john.id, limit=2)
    assert [f.id for f in latest] == [second.id, latest[1].id]
    assert [f.generation_id for f in latest] == [story["second"], story["first"]]


async def test_feedback_outlives_the_plans_of_its_generation(story):
    db, john = story["db"], story["john"]
    await PlanRepository(db).delete_generation(john.id, story["first"])
    [feedback] = await FeedbackRepository(db).latest(john.id)
    assert feedback.generation_id == story["first"]


async def test_a_generation_is_written_whole_or_not_at_all(story):
    """The last task of the last day breaks a rule: nothing of the generation remains."""
    db, john = story["db"], story["john"]
    before = await counts(db)
    with pytest.raises(InvalidValue) as refused:
        await PlanRepository(db).create_generation(
            john.id,
            [
                DayPlan(DAY1, [NewTask(story["calculus"].id, "Fine", 1, 1)]),
                DayPlan(DAY2, [NewTask(story["calculus"].id, "Too hard", 6, 1)]),
            ],
        )
    assert refused.value.constraint == "ai_tasks_difficulty_check"
    assert await counts(db) == before


async def test_a_task_on_another_users_subject_is_refused(story):
    """The subject key is composite, (subject_id, user_id): another user's subject is,
    for this task, one that does not exist."""
    db = story["db"]
    before = await counts(db)
    with pytest.raises(MissingReference) as refused:
        await PlanRepository(db).create_generation(
            story["john"].id,
            [DayPlan(DAY1, [NewTask(story["chemistry"].id, "Mary's lab", 2, 2)])],
        )
    assert refused.value.constraint == "ai_tasks_subject_id_fkey"
    assert "belong to the user of its plan" in str(refused.value)
    assert await counts(db) == before


async def test_moving_a_task_onto_another_users_subject_is_refused(story):
    db = story["db"]
    with pytest.raises(Exception, match="ai_tasks_subject_id_fkey") as refused:
        await db.pool.execute(
            "update planner.ai_tasks set subject_id = $1 where subject_id = $2",
            story["chemistry"].id,
            story["calculus"].id,
        )
    assert refused.value.sqlstate == "23503"


async def test_owners_of_plans_and_subjects_cannot_change(story):
    db = story["db"]
    for table, column in (("plans", "user_id"), ("subjects", "student_id")):
        with pytest.raises(Exception, match="cannot change") as refused:
            await db.pool.execute(
                f"update planner.{table} set {column} = $1 where {column} = $2",
                story["mary"].id,
                story["john"].id,
            )
        assert refused.value.constraint_name == f"{table}_owner_fixed"


@pytest.mark.parametrize(
    ("days", "error", "constraint"),
    [
        ([DayPlan(DAY1), DayPlan(DAY1)], Conflict, "plans_user_id_generation_id_date_key"),
        (
            [DayPlan(DAY1, [NewTask(10**9, "x", 1, 1)])],
            MissingReference,
            "ai_tasks_subject_id_fkey",
        ),
        ([DayPlan(DAY1, [NewTask(0, " ", 1, 1)])], InvalidValue, "ai_tasks_ai_task_name_check"),
        ([DayPlan(DAY1, [NewTask(0, "x", 1, 11)])], InvalidValue, "ai_tasks_priority_check"),
        ([DayPlan(DAY1, [NewTask(0, "x", 0, 1)])], InvalidValue, "ai_tasks_difficulty_check"),
    ],
)
async def test_bad_generations_are_refused_by_the_right_rule(story, days, error, constraint):
    db = story["db"]
    days = [
        DayPlan(
            d.date,
            [
                NewTask(
                    t.subject_id or story["calculus"].id, t.ai_task_name, t.difficulty, t.priority
                )
                for t in d.tasks
            ],
        )
        for d in days
    ]
    before = await counts(db)
    with pytest.raises(error) as refused:
        await PlanRepository(db).create_generation(story["john"].id, days)
    assert refused.value.constraint == constraint
    assert await counts(db) == before


async def test_a_generation_for_a_missing_user_is_a_missing_reference(tether_db):
    with pytest.raises(MissingReference) as refused:
        await PlanRepository(tether_db).create_generation(10**9, [DayPlan(DAY1)])
    assert refused.value.constraint == "plans_user_id_fkey"
    assert "the plan's user must exist" in str(refused.value)


async def test_a_generation_needs_a_day(tether_db):
    with pytest.raises(InvalidValue, match="at least one day"):
        await PlanRepository(tether_db).create_generation(1, [])


@pytest.mark.parametrize(
    ("email", "name", "constraint"),
    [
        ("not-an-address", None, "users_email_check"),
        ("a@" + "b" * 320, None, "users_email_check"),
        ("ok@example.com", "n" * 256, "users_name_check"),
    ],
)
async def test_bad_users_are_invalid_values(tether_db, email, name, constraint):
    with pytest.raises(InvalidValue) as refused:
        await UserRepository(tether_db).create(email, name)
    assert refused.value.constraint == constraint
    assert await tether_db.pool.fetchval("select count(*) from planner.users") == 0


async def test_emails_are_unique_whatever_their_case_and_never_echoed(tether_db):
    users = UserRepository(tether_db)
    john = await users.create("John@Example.com")
    with pytest.raises(Conflict) as refused:
        await users.create("john@EXAMPLE.com")
    message = str(refused.value)
    assert refused.value.constraint == "users_email_key"
    assert "planner.users" in message and "already exists" in message
    assert "example" not in message.lower()
    assert await users.find_by_email("JOHN@example.COM") == john
    assert await users.find_by_email("nobody@example.com") is None


async def test_subject_names_are_unique_per_student(tether_db):
    users, subjects = UserRepository(tether_db), SubjectRepository(tether_db)
    john, mary = await users.create("j@x.io"), await users.create("m@x.io")
    await subjects.create(john.id, "Physics")
    await subjects.create(mary.id, "Physics")
    with pytest.raises(Conflict) as refused:
        await subjects.create(john.id, "Physics")
    assert refused.value.constraint == "subjects_student_id_name_key"
    with pytest.raises(MissingReference):
        await subjects.create(10**9, "Physics")
    assert [s.name for s in await subjects.of_student(john.id)] == ["Physics"]


async def test_feedback_for_a_missing_user_or_blank_is_refused(tether_db):
    feedback = FeedbackRepository(tether_db)
    with pytest.raises(MissingReference):
        await feedback.submit(10**9, uuid.uuid4(), "hello")
    user = await UserRepository(tether_db).create("f@x.io")
    with pytest.raises(InvalidValue) as refused:
        await feedback.submit(user.id, uuid.uuid4(), "   ")
    assert refused.value.constraint == "feedback_content_check"
    assert await tether_db.pool.fetchval("select count(*) from planner.feedback") == 0


async def test_wrong_argument_types_are_invalid_values_naming_the_parameter(tether_db):
    with pytest.raises(InvalidValue, match=r"argument :id") as refused:
        await UserRepository(tether_db).get("secret-looking-value")
    assert "secret-looking-value" not in str(refused.value)


async def test_two_concurrent_feedback_submissions_one_wins(story):
    db, john, second = story["db"], story["john"], story["second"]
    feedback = FeedbackRepository(db)
    results = await asyncio.gather(
        feedback.submit(john.id, second, "first writer"),
        feedback.submit(john.id, second, "second writer"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Feedback", "FeedbackTaken"]
    stored = await db.pool.fetchval(
        "select count(*) from planner.feedback where user_id = $1 and generation_id = $2",
        john.id,
        second,
    )
    assert stored == 1


async def test_repositories_join_the_callers_transaction(story):
    db, john = story["db"], story["john"]
    before = await counts(db)

    async def change_of_mind():
        async with db.transaction() as conn:
            await SubjectRepository(conn).create(john.id, "Biology")
            await UserRepository(conn).delete(story["mary"].id)
            raise RuntimeError("the caller changes its mind")

    with pytest.raises(RuntimeError):
        await change_of_mind()
    assert await counts(db) == before
    async with db.transaction() as conn:
        await SubjectRepository(conn).create(john.id, "Biology")
    assert (await counts(db))["subjects"] == before["subjects"] + 1


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: NewTask(1, ["a"], 1, 1), "planner.ai_tasks: ai_task_name must be str, not list"),
        (lambda: NewTask("1", "x", 1, 1), "planner.ai_tasks: subject_id must be int, not str"),
        (lambda: NewTask(1, "x", True, 1), "planner.ai_tasks: difficulty must be int, not bool"),
        (lambda: DayPlan("2026-01-13"), "planner.plans: date must be date, not str"),
        (lambda: DayPlan(DAY1, [{"subject_id": 1}]), "expected NewTask items, not dict"),
    ],
)
def test_generation_inputs_are_typed(build, message):
    """Tasks travel as parallel arrays, where a list would become one more dimension:
    the input records refuse wrong types before anything is sent."""
    with pytest.raises(InvalidValue, match=message):
        build()
