"""The planner's repository operations through PgBouncer in transaction pooling mode,
with tether's PgBouncer setting on (`Database(pgbouncer=True)`, or TETHER_PGBOUNCER=1):
10 client connections share 3 server connections, and every result is read back over a
direct connection. The planner's own repository tests run through it too, with
DATABASE_URL pointing at PgBouncer."""

import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tether import Conflict, Database, TetherError, retry
from tether.planner import (
    DayPlan,
    FeedbackRepository,
    NewTask,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)

from .commands import run
from .pgbouncer import SERVER_CONNECTIONS

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 10
GENERATIONS = 30
SUBMITTERS = 20
DAY = dt.date(2026, 4, 6)


async def server_connections(sql, database: str) -> int:
    return await sql.fetchval(
        "select count(*) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        database,
    )


async def test_the_planner_through_pgbouncer(pgbouncer, tether_url, sql):
    database = urlsplit(tether_url).path.lstrip("/")
    busiest = 0

    async with Database(pgbouncer.url(database), pgbouncer=True, max_size=CLIENTS) as db:
        users, subjects, plans = UserRepository(db), SubjectRepository(db), PlanRepository(db)
        john = await users.create("john@example.com", "John")
        mary = await users.create("mary@example.com", "Mary")
        calculus = await subjects.create(john.id, "Calculus")
        physics = await subjects.create(john.id, "Physics")

        def generation(i: int):
            days = [
                DayPlan(DAY, [NewTask(calculus.id, f"Chapter {i}", 3, 8)]),
                DayPlan(DAY + dt.timedelta(days=1), [NewTask(physics.id, f"Lab {i}", 4, 9)]),
            ]
            return plans.create_generation(john.id, days)

        async def watch(until: asyncio.Future) -> None:
            nonlocal busiest
            while not until.done():
                busiest = max(busiest, await server_connections(sql, database))
                await asyncio.sleep(0.002)

        load = asyncio.gather(*(generation(i) for i in range(GENERATIONS)))
        await watch(load)
        generations = await load
        assert db.pool.get_size() == CLIENTS

        calendar = await plans.latest_calendar(john.id)
        assert calendar is not None and calendar.generation_id in generations
        assert [[t.subject_name for t in d.tasks] for d in calendar.days] == [
            ["Calculus"],
            ["Physics"],
        ]
        assert len(await plans.page_of_user(john.id, limit=GENERATIONS)) == GENERATIONS

        results = await asyncio.gather(
            *(
                FeedbackRepository(db).submit(john.id, generations[0], f"feedback {i}")
                for i in range(SUBMITTERS)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(r, Conflict) for r in results) == SUBMITTERS - 1

        async with db.transaction() as conn:  # several statements, one server connection
            await SubjectRepository(conn).create(mary.id, "Biology")
            await SubjectRepository(conn).create(mary.id, "Chemistry")

        async def change_of_mind():
            async with db.transaction() as conn:
                await SubjectRepository(conn).create(mary.id, "Dropped")
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            await change_of_mind()
        await retry(lambda conn: SubjectRepository(conn).create(mary.id, "Art"), db)

        plan_id = await sql.fetchval(
            "select id from planner.plans where generation_id = $1 and date = $2",
            generations[1],
            DAY,
        )
        assert await plans.delete_plan(plan_id)
        assert await plans.delete_generation(john.id, generations[2]) == 2
        assert await subjects.delete(physics.id)
        assert await users.delete(mary.id)

    # Ten client connections were served by at most three server connections.
    assert 0 < busiest <= SERVER_CONNECTIONS
    assert f"db={database}" in pgbouncer.log.read_text()

    counts = await sql.fetchrow(
        """
        select (select count(*) from planner.users) as users,
               (select count(*) from planner.subjects) as subjects,
               (select count(distinct generation_id) from planner.plans) as generations,
               (select count(*) from planner.plans) as plans,
               (select count(*) from planner.ai_tasks) as tasks,
               (select count(*) from planner.feedback) as feedback
        """
    )
    # 30 generations of 2 days, one task each; one plan and one generation deleted,
    # then Physics (one task per remaining generation) and Mary with her subjects.
    assert dict(counts) == {
        "users": 1,
        "subjects": 1,
        "generations": GENERATIONS - 1,
        "plans": 2 * GENERATIONS - 3,
        "tasks": GENERATIONS - 2,  # Calculus tasks: generation 1 lost its first day, 2 went
        "feedback": 1,
    }


async def test_without_the_setting_pgbouncer_breaks_prepared_statements(pgbouncer, tether_url):
    """Why the setting exists: asyncpg's named prepared statements, prepared on one server
    connection, are missing on the next. tether says so, and names the cure."""
    database = urlsplit(tether_url).path.lstrip("/")
    async with Database(pgbouncer.url(database), pgbouncer=False, max_size=CLIENTS) as db:
        results = await asyncio.gather(
            *(UserRepository(db).create(f"user{i}@example.com") for i in range(GENERATIONS)),
            return_exceptions=True,
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures
    assert all(isinstance(f, TetherError) for f in failures), failures
    assert all("TETHER_PGBOUNCER=1" in str(f) for f in failures), failures


@pytest.mark.slow
async def test_the_planner_repository_tests_pass_through_pgbouncer(pgbouncer, tether_template):
    """tests/planner/test_repositories.py in a pytest of its own, DATABASE_URL at PgBouncer. The
    migrated template exists already (built over a direct connection): migrations are
    DDL under yoyo's lock and belong on a direct connection, not behind a pooler."""
    env = {**os.environ, "DATABASE_URL": pgbouncer.url("postgres"), "TETHER_PGBOUNCER": "1"}
    planner_tests = str(ROOT / "tests" / "planner" / "test_repositories.py")
    code, said = await run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-n",
        "0",  # one process: this test runs on a worker of the suite already
        "-p",
        "no:cacheprovider",
        planner_tests,
        cwd=ROOT,
        env=env,
        seconds=300,
    )
    assert code == 0, said[-3000:]
    passed = re.search(r"(\d+) passed", said)
    assert passed and int(passed[1]) >= 20, said[-3000:]
