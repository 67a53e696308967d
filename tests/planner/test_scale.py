"""The planner's reads at scale: a user with thousands of generations, or buried under
thousands of other users' newer plans, costs what a new user costs.

Counted in buffers (pages read, as EXPLAIN (ANALYZE, BUFFERS) reports them), not in
time: the count does not depend on the machine. Each read runs as a custom plan (the
first executions of a prepared statement, or every one behind PgBouncer) and as a
generic plan (what asyncpg's statement cache settles on), since the two are planned
differently: a custom plan knows that the heavy user owns a third of the table.
"""

import pytest

from tether.planner.repositories import Q

HEAVY_GENERATIONS = 2000
OTHERS_PLANS = 4000
PAGE = 3
MODES = ("force_custom_plan", "force_generic_plan")

# A user with `generations` generations of two days, a task a day, feedback on each.
HISTORY = """
with u as (
    insert into planner.users (email) values ($1) returning id
),
s as (
    insert into planner.subjects (student_id, name) select id, 'Subject' from u returning id
),
g as (
    select gen_random_uuid() as generation_id, n from generate_series(1, $2::int) as n
),
p as (
    insert into planner.plans (user_id, date, generation_id)
    select u.id, date '2026-01-05' + d, g.generation_id
    from u, g, generate_series(0, 1) as d
    order by g.n, d
    returning id
),
t as (
    insert into planner.ai_tasks (plan_id, subject_id, ai_task_name, difficulty, priority)
    select p.id, s.id, 'Task', 1, 1 from p, s
),
f as (
    insert into planner.feedback (user_id, generation_id, content)
    select u.id, g.generation_id, 'Fine.' from u, g
)
select id from u
"""


@pytest.fixture
async def users(tether_db):
    """light (a few generations), heavy (thousands), both followed by thousands of
    plans of other users, then newest (a few generations, written last)."""
    pool = tether_db.pool
    light = await pool.fetchval(HISTORY, "light@example.com", PAGE + 2)
    heavy = await pool.fetchval(HISTORY, "heavy@example.com", HEAVY_GENERATIONS)
    await pool.fetchval(HISTORY, "others@example.com", OTHERS_PLANS // 2)
    newest = await pool.fetchval(HISTORY, "newest@example.com", PAGE + 2)
    await pool.execute("vacuum analyze planner.plans, planner.ai_tasks, planner.feedback")
    return {"light": light, "heavy": heavy, "newest": newest}


async def buffers(conn, sql: str, arguments: tuple[int | None, ...], mode: str) -> int:
    """The pages one execution reads, planned as `mode` says."""
    await conn.execute(f"set plan_cache_mode = {mode}")
    await conn.execute("prepare measured as " + sql)
    try:
        values = ", ".join("null" if a is None else str(int(a)) for a in arguments)
        # tether's connections decode json (the plan) already.
        [explained] = await conn.fetchval(
            f"explain (analyze, buffers, format json) execute measured({values})"
        )
    finally:
        await conn.execute("deallocate measured")
    plan = explained["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def flat(costs: dict[str, int], than: str) -> bool:
    """Whether every user's count is within a quarter (and a few pages) of `than`'s."""
    return all(cost <= costs[than] * 1.25 + 4 for cost in costs.values())


@pytest.mark.parametrize("mode", MODES)
async def test_a_page_of_generations_costs_the_same_for_a_long_history(tether_db, users, mode):
    async with tether_db.connection() as conn:
        costs = {
            who: await buffers(conn, Q.list_generations.sql, (users[who], None, PAGE), mode)
            for who in ("light", "heavy")
        }
    assert flat(costs, "light"), costs


@pytest.mark.parametrize("mode", MODES)
async def test_the_latest_feedback_costs_the_same_for_a_long_history(tether_db, users, mode):
    async with tether_db.connection() as conn:
        costs = {
            who: await buffers(conn, Q.latest_feedback.sql, (users[who], 2), mode)
            for who in ("light", "heavy")
        }
    assert flat(costs, "light"), costs


@pytest.mark.parametrize("mode", MODES)
async def test_the_calendar_costs_the_same_whoever_wrote_after(tether_db, users, mode):
    async with tether_db.connection() as conn:
        costs = {
            who: await buffers(conn, Q.latest_calendar.sql, (users[who],), mode)
            for who in ("newest", "light", "heavy")
        }
    assert flat(costs, "newest"), costs
