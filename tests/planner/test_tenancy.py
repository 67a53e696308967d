"""Tenancy in the planner (SPEC "Tenancy"): a user is a tenant. Two users' whole trees;
scoped to one (`db.tenant(user_id)`), the database shows, changes and lets it refer to
that user's rows only; unscoped as tether_service, nothing; and no row, however
written, points at another user's row."""

import datetime as dt

import asyncpg
import pytest

from tenancy_checks import (
    assert_isolated,
    assert_tenant_tables,
    grants,
    hand_written,
    unscoped_service,
)
from tether import MissingReference, NotFound, OutOfScope
from tether.planner import (
    DayPlan,
    FeedbackRepository,
    NewTask,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)
from tether.testing import expect_changes

# Each tenant table and the column holding its tenant (a user's id).
TABLES = {
    "users": "id",
    "subjects": "student_id",
    "plans": "user_id",
    "ai_tasks": "user_id",
    "feedback": "user_id",
}
DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


async def tree(db, email: str) -> dict:
    """A user with two subjects, a two-day generation of three tasks and feedback on it."""
    user = await UserRepository(db).create(email)
    maths = await SubjectRepository(db).create(user.id, "Maths")
    physics = await SubjectRepository(db).create(user.id, "Physics")
    generation = await PlanRepository(db).create_generation(
        user.id,
        [
            DayPlan(DAY1, [NewTask(maths.id, "Limits", 2, 5), NewTask(physics.id, "Waves", 3, 4)]),
            DayPlan(DAY2, [NewTask(maths.id, "Series", 3, 6)]),
        ],
    )
    await FeedbackRepository(db).submit(user.id, generation, "Too much on day 1")
    plan_id = await db.pool.fetchval(
        "select min(id) from planner.plans where user_id = $1", user.id
    )
    return {
        "user": user,
        "maths": maths,
        "physics": physics,
        "generation": generation,
        "plan_id": plan_id,
    }


@pytest.fixture
async def trees(tether_db):
    return await tree(tether_db, "ann@example.com"), await tree(tether_db, "bob@example.com")


async def test_every_table_is_a_tenant_table_with_only_the_grants_its_repositories_need(
    tether_db,
):
    await assert_tenant_tables(tether_db, "planner", TABLES)
    assert await grants(tether_db, "planner") == {
        "users": ["DELETE", "INSERT", "SELECT"],
        "subjects": ["DELETE", "INSERT", "SELECT"],
        "plans": ["DELETE", "INSERT", "SELECT"],
        "ai_tasks": ["INSERT", "SELECT"],
        "feedback": ["INSERT", "SELECT"],
    }


async def test_scoped_to_a_user_every_table_shows_exactly_that_users_rows(tether_db, trees):
    ann, bob = trees
    await assert_isolated(tether_db, "planner", TABLES, ann["user"].id, bob["user"].id)


async def test_another_users_rows_cannot_be_read_changed_or_deleted(tether_db, trees):
    ann, bob = trees
    async with tether_db.tenant(ann["user"].id) as conn:
        with pytest.raises(NotFound):
            await UserRepository(conn).get(bob["user"].id)
        assert await UserRepository(conn).find_by_email("bob@example.com") is None
        assert await PlanRepository(conn).latest_calendar(bob["user"].id) is None
        assert await FeedbackRepository(conn).latest(bob["user"].id) == []
        assert not await SubjectRepository(conn).delete(bob["maths"].id)
        assert not await PlanRepository(conn).delete_plan(bob["plan_id"])
        assert await PlanRepository(conn).delete_generation(bob["user"].id, bob["generation"]) == 0
        assert not await UserRepository(conn).delete(bob["user"].id)
        # Ann's own rows are hers to read.
        assert (await UserRepository(conn).get(ann["user"].id)).email == "ann@example.com"
    async with tether_db.tenant(ann["user"].id) as conn:
        # No repository updates a planner row: tether_service may not either.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("update planner.plans set date = date + 1")
    bob_rows = await tether_db.pool.fetchrow(
        """
        select (select count(*) from planner.subjects where student_id = $1) as subjects,
               (select count(*) from planner.plans where user_id = $1) as plans,
               (select count(*) from planner.ai_tasks where user_id = $1) as ai_tasks,
               (select count(*) from planner.feedback where user_id = $1) as feedback
        """,
        bob["user"].id,
    )
    assert dict(bob_rows) == {"subjects": 2, "plans": 2, "ai_tasks": 3, "feedback": 1}


async def test_another_users_rows_cannot_be_referenced(tether_db, trees):
    ann, bob = trees
    before = await tether_db.pool.fetchval("select count(*) from planner.ai_tasks")
    async with tether_db.tenant(ann["user"].id) as conn:
        # A task on Bob's subject in Ann's plan: the composite key finds no such subject.
        with pytest.raises(MissingReference) as refused:
            await PlanRepository(conn).create_generation(
                ann["user"].id, [DayPlan(DAY2, [NewTask(bob["maths"].id, "Copied", 1, 1)])]
            )
        assert refused.value.constraint == "ai_tasks_subject_id_fkey"
    async with tether_db.tenant(ann["user"].id) as conn:
        # A task naming Bob's plan: invisible here, so it has no user and is refused.
        with pytest.raises(MissingReference) as refused:
            await hand_written(
                conn,
                "planner",
                "insert into planner.ai_tasks "
                "(plan_id, subject_id, ai_task_name, difficulty, priority) "
                "values ($1, $2, 'Sneaky', 1, 1)",
                bob["plan_id"],
                ann["maths"].id,
            )
        assert refused.value.constraint == "ai_tasks_plan_id_fkey"
    for write in (
        lambda conn: SubjectRepository(conn).create(bob["user"].id, "Planted"),
        lambda conn: FeedbackRepository(conn).submit(bob["user"].id, ann["generation"], "Hi"),
        lambda conn: PlanRepository(conn).create_generation(bob["user"].id, [DayPlan(DAY2)]),
    ):
        async with tether_db.tenant(ann["user"].id) as conn:
            with pytest.raises(OutOfScope, match="row-level security"):
                await write(conn)
    assert await tether_db.pool.fetchval("select count(*) from planner.ai_tasks") == before
    assert (
        await tether_db.pool.fetchval(
            "select count(*) from planner.subjects where name = 'Planted'"
        )
        == 0
    )


async def test_a_hand_written_insert_cannot_point_at_another_users_plan(tether_db, trees):
    """Even the owner, unscoped, naming Ann as the task's user: Bob's plan is not Ann's."""
    ann, bob = trees
    with pytest.raises(MissingReference) as refused:
        await hand_written(
            tether_db.pool,
            "planner",
            "insert into planner.ai_tasks "
            "(plan_id, subject_id, user_id, ai_task_name, difficulty, priority) "
            "values ($1, $2, $3, 'Sneaky', 1, 1)",
            bob["plan_id"],
            ann["maths"].id,
            ann["user"].id,
        )
    assert refused.value.constraint == "ai_tasks_plan_id_fkey"
    assert "the task's plan must exist, and be its user's" in str(refused.value)


async def test_an_insert_naming_only_the_spec_columns_gets_its_plans_user(tether_db, trees):
    ann, bob = trees
    for owner in (ann, bob):
        task_user = await tether_db.pool.fetchval(
            "insert into planner.ai_tasks "
            "(plan_id, subject_id, ai_task_name, difficulty, priority) "
            "values ($1, $2, 'Extra', 1, 1) returning user_id",
            owner["plan_id"],
            owner["maths"].id,
        )
        plan_user = await tether_db.pool.fetchval(
            "select user_id from planner.plans where id = $1", owner["plan_id"]
        )
        assert task_user == plan_user == owner["user"].id
    async with tether_db.tenant(ann["user"].id) as conn:
        task_user = await conn.fetchval(
            "insert into planner.ai_tasks "
            "(plan_id, subject_id, ai_task_name, difficulty, priority) "
            "values ($1, $2, 'Scoped', 1, 1) returning user_id",
            ann["plan_id"],
            ann["physics"].id,
        )
    assert task_user == ann["user"].id


async def test_a_task_of_a_plan_that_does_not_exist_is_a_missing_reference(tether_db, trees):
    ann, _ = trees
    with pytest.raises(MissingReference) as refused:
        await hand_written(
            tether_db.pool,
            "planner",
            "insert into planner.ai_tasks "
            "(plan_id, subject_id, ai_task_name, difficulty, priority) "
            "values (-1, $1, 'Orphan', 1, 1)",
            ann["maths"].id,
        )
    assert refused.value.constraint == "ai_tasks_plan_id_fkey"


@pytest.mark.parametrize("scoped", [True, False], ids=["scoped", "unscoped"])
async def test_deleting_a_user_removes_the_whole_tree(tether_db, trees, scoped):
    ann, _ = trees
    whole_tree = {
        "planner.users": 1,
        "planner.subjects": 2,
        "planner.plans": 2,
        "planner.ai_tasks": 3,
        "planner.feedback": 1,
    }
    scope = tether_db.tenant(ann["user"].id) if scoped else tether_db.transaction()
    async with scope as conn, expect_changes(conn, deleted=whole_tree, updated={}):
        assert await UserRepository(conn).delete(ann["user"].id)
    left = await tether_db.pool.fetchval(
        "select (select count(*) from planner.subjects) + (select count(*) from planner.plans)"
        " + (select count(*) from planner.ai_tasks) + (select count(*) from planner.feedback)"
    )
    assert left == 2 + 2 + 3 + 1  # Bob's tree, whole


async def test_unscoped_service_sees_nothing_and_writes_nothing(tether_db, trees):
    ann, _ = trees
    async with unscoped_service(tether_db) as conn:
        assert await PlanRepository(conn).latest_calendar(ann["user"].id) is None
        assert not await UserRepository(conn).delete(ann["user"].id)
    assert await tether_db.pool.fetchval("select count(*) from planner.users") == 2
