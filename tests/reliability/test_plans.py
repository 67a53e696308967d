"""Plans that hold without statistics: each hot query of every domain walks its index
on a table that has never been analyzed.

After a bulk load or a restore, until autoanalyze runs (a minute or more), the
planner knows a table's size but nothing of its columns: it takes any tenant to own
0.5% of the rows. A query whose plan then turns into a scan and a sort of all of a
heavy tenant's rows is a latent outage. Each test here loads one heavy and one
light tenant into a fresh copy of the database with autovacuum off (so the tables
stay un-analyzed, which the test checks in pg_stats), runs the repository's SQL as
a custom and as a generic plan under EXPLAIN ANALYZE (a write in a transaction that
rolls back), and asserts from the plan: no Seq Scan on the domain's tables, no node
(a Bitmap Heap Scan, a Sort's input) reading more than a page's worth of the heavy
tenant's rows, and the heavy tenant's page costing within a few times the light
tenant's, in pages read and in time.
"""

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from attrs import frozen

from tether import admin, queries
from tether.catalog import Q

pytestmark = pytest.mark.reliability

MODES = ("force_custom_plan", "force_generic_plan")
# The heavy tenant's rows in the table its query pages through; the light one's
# make a few pages.
HEAVY, LIGHT = 20_000, 200
# A node may read this many rows at most (a page, plus what a step skips).
MOST_ROWS_READ = 1_000


def _rows(heavy: str, per: int = 1) -> str:
    """How many rows a tenant gets: HEAVY where `heavy` holds, else LIGHT (/ `per`)."""
    return f"case when {heavy} then {HEAVY // per} else {LIGHT // per} end"


LOADS = {
    "planner": [
        """insert into planner.users (email)
           select who || '@example.com' from unnest(array['heavy', 'light']) as who""",
        """insert into planner.subjects (student_id, name)
           select id, 'Subject' from planner.users""",
        # Generations of 5 days, written one generation at a time as create_generation
        # writes them; the heavy user's 4,000 generations are 20,000 plans.
        f"""insert into planner.plans (user_id, date, generation_id)
            select u.id, date '2026-01-05' + d, g.generation_id
            from planner.users u
            cross join lateral (
                select gen_random_uuid() as generation_id, n
                from generate_series(1, {_rows("u.email like 'heavy%'", per=5)})
                     as n
            ) as g
            cross join generate_series(0, 4) as d
            order by u.id, g.n, d""",
        """insert into planner.ai_tasks (plan_id, subject_id, ai_task_name, difficulty, priority)
           select p.id, s.id, 'Task', 1, 1
           from planner.plans p join planner.subjects s on s.student_id = p.user_id""",
        """insert into planner.feedback (user_id, generation_id, content)
           select distinct user_id, generation_id, 'Fine.' from planner.plans""",
        # Other students' subjects (after the tasks, whose trigger reads subjects): a
        # task's subject is found by its id, not by a scan of them all.
        f"""with others as (
                insert into planner.users (email)
                select 'other' || n || '@example.com' from generate_series(1, {HEAVY // 10}) as n
                returning id
            )
            insert into planner.subjects (student_id, name)
            select id, 'Subject ' || n from others, generate_series(1, 5) as n""",
    ],
    "chat": [
        """insert into chat.users (email)
           select who || '@example.com' from unnest(array['heavy', 'light']) as who""",
        f"""insert into chat.conversations (user_id, title, created_at)
            select u.id, 'c' || n, timestamptz '2026-01-01' + n * interval '1 second'
            from chat.users u,
                 generate_series(1, {_rows("u.email like 'heavy%'")}) as n""",
        # Each user's first conversation holds their messages.
        f"""insert into chat.messages (conversation_id, sender, content, created_at)
            select c.id, 'user', 'm' || n, timestamptz '2026-01-01' + n * interval '1 second'
            from chat.users u
            join chat.conversations c on c.user_id = u.id and c.title = 'c1',
                 generate_series(1, {_rows("u.email like 'heavy%'")}) as n""",
    ],
    "study": [
        """insert into study.profiles (email, password_hash)
           select who || '@example.com', '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'
           from unnest(array['heavy', 'light']) as who""",
        f"""insert into study.study_sessions (profile_id, title, created_at)
            select p.id, 's' || n, timestamptz '2026-01-01' + n * interval '1 second'
            from study.profiles p,
                 generate_series(1, {_rows("p.email like 'heavy%'")}) as n""",
        """insert into study.chats (session_id, type)
           select s.id, 'GENERAL' from study.study_sessions s where s.title = 's1'""",
        f"""insert into study.messages (chat_id, role, content)
            select c.id, 'user', 'm' || n
            from study.profiles p
            join study.study_sessions s on s.profile_id = p.id
            join study.chats c on c.session_id = s.id,
                 generate_series(1, {_rows("p.email like 'heavy%'")}) as n
            order by p.id, n""",
    ],
    "tickets": [
        """insert into tickets.sessions (title) values ('heavy'), ('light')""",
        f"""insert into tickets.tickets (session_id, summary, issue_type, priority, position)
            select s.id, 't' || n, 'Task', 'Medium', n
            from tickets.sessions s,
                 generate_series(1, {_rows("s.title = 'heavy'")}) as n""",
        f"""insert into tickets.session_errors (session_id, error_type, message, created_at)
            select s.id, 'parse', 'e' || n, timestamptz '2026-01-01' + n * interval '1 second'
            from tickets.sessions s,
                 generate_series(1, {_rows("s.title = 'heavy'")}) as n""",
        f"""insert into tickets.audit_log (session_id, action)
            select s.id, 'a' || n
            from tickets.sessions s,
                 generate_series(1, {_rows("s.title = 'heavy'")}) as n
            order by s.title, n""",
    ],
    "tutor": [
        """insert into tutor.users (email, name, role)
           values ('prof@example.com', 'Prof', 'professor')""",
        """insert into tutor.courses (name, code, professor_id)
           select 'Course', 'C-1', id from tutor.users""",
        """insert into tutor.weeks (course_id, number, title)
           select c.id, n, 'Week ' || n from tutor.courses c, generate_series(1, 2) as n""",
        """insert into tutor.readings (week_id, filename, file_path)
           select w.id, case w.number when 1 then 'heavy' else 'light' end, '/r'
           from tutor.weeks w""",
        f"""insert into tutor.chunks (reading_id, idx, content)
            select r.id, n, 'chunk ' || n
            from tutor.readings r,
                 generate_series(0, {_rows("r.filename = 'heavy'")}) as n""",
        # A queue that has done much work: the pending jobs are few among finished ones.
        f"""insert into tutor.jobs (kind, status, progress, week_id)
            select case when n % 2 = 0 then 'summarize' else 'transcribe' end, 'succeeded', 100,
                   (select min(id) from tutor.weeks)
            from generate_series(1, {HEAVY}) as n""",
        """insert into tutor.jobs (kind, week_id)
           select 'summarize', (select max(id) from tutor.weeks) from generate_series(1, 5)""",
    ],
}


@frozen
class Hot:
    """One hot query, and a SELECT of its arguments for `$1` = 'heavy' or 'light'."""

    domain: str
    query: str
    arguments: str
    label: str = ""
    scoped: bool = True  # also run as tether_service scoped to the tenant

    @property
    def id(self) -> str:
        return f"{self.domain}.{self.query}{self.label}"


# A cursor to the middle of the tenant's rows.
def _middle(table: str, key: str, where: str, order: str) -> str:
    return (
        f"(select {key} from {table} where {where} order by {order} "
        f"offset (select count(*) / 2 from {table} where {where}) limit 1)"
    )


PLANNER_USER = "(select id from planner.users where email = $1 || '@example.com')"
CHAT_USER = "(select id from chat.users where email = $1 || '@example.com')"
CHAT_CONVERSATION = (
    f"(select id from chat.conversations where user_id = {CHAT_USER} and title = 'c1')"
)
STUDY_PROFILE = "(select id from study.profiles where email = $1 || '@example.com')"
STUDY_CHAT = (
    "(select c.id from study.chats c join study.study_sessions s on s.id = c.session_id "
    f"where s.profile_id = {STUDY_PROFILE} and s.title = 's1')"
)
TICKETS_SESSION = "(select id from tickets.sessions where title = $1)"
TUTOR_READING = "(select id from tutor.readings where filename = $1)"
TUTOR_WEEK = "(select week_id from tutor.readings where filename = $1)"

# Each domain's tenant key for `$1` = 'heavy' or 'light': the hot queries also run scoped
# to it, as db.tenant() scopes them. Under row-level security a condition of the query
# that PostgreSQL cannot prove leakproof (a COALESCE, for one) is not used in an index
# but filtered after the policy: a deep page then read every row before the cursor.
TENANT = {
    "planner": PLANNER_USER,
    "chat": CHAT_USER,
    "study": STUDY_PROFILE,
    "tickets": TICKETS_SESSION,
    "tutor": "(select course_id from tutor.readings where filename = $1)",
}

HOT = [
    Hot(
        "planner",
        "list_generations",
        f"select {PLANNER_USER} as user_id, null::bigint as after_newest_plan_id, 20 as limit",
    ),
    Hot(
        "planner",
        "list_generations",
        f"""select {PLANNER_USER} as user_id,
                   {_middle("planner.plans", "id", f"user_id = {PLANNER_USER}", "id desc")}
                   as after_newest_plan_id,
                   20 as limit""",
        label="[deep]",
    ),
    Hot("planner", "latest_calendar", f"select {PLANNER_USER} as user_id"),
    Hot("planner", "latest_feedback", f"select {PLANNER_USER} as user_id, 5 as limit"),
    Hot(
        "chat",
        "conversations_page",
        f"""select {CHAT_USER} as user_id, null::timestamptz as after_created_at,
                   null::uuid as after_id, 21 as limit""",
    ),
    Hot(
        "chat",
        "conversations_page",
        f"""select {CHAT_USER} as user_id,
                   m.created_at as after_created_at, m.id as after_id, 21 as limit
            from chat.conversations m
            where m.id = {
            _middle(
                "chat.conversations", "id", f"user_id = {CHAT_USER}", "created_at desc, id desc"
            )
        }""",
        label="[deep]",
    ),
    Hot(
        "chat",
        "messages_page",
        f"""select m.conversation_id, m.created_at as after_created_at, m.id as after_id,
                   51 as limit
            from chat.messages m
            where m.id = {
            _middle(
                "chat.messages", "id", f"conversation_id = {CHAT_CONVERSATION}", "created_at, id"
            )
        }""",
        label="[deep]",
    ),
    Hot(
        "study",
        "sessions_page",
        f"""select s.profile_id, s.created_at as after_created_at, s.id as after_id,
                   21 as limit
            from study.study_sessions s
            where s.id = {
            _middle(
                "study.study_sessions",
                "id",
                f"profile_id = {STUDY_PROFILE}",
                "created_at desc, id desc",
            )
        }""",
        label="[deep]",
    ),
    Hot(
        "study",
        "messages_page",
        f"""select {STUDY_CHAT} as chat_id,
                   {_middle("study.messages", "seq", f"chat_id = {STUDY_CHAT}", "seq")}
                   as after_seq,
                   51 as limit""",
        label="[deep]",
    ),
    Hot(
        "tickets",
        "tickets_page",
        f"""select t.session_id, t.position as after_position, t.id as after_id, 51 as limit
            from tickets.tickets t
            where t.id = {
            _middle("tickets.tickets", "id", f"session_id = {TICKETS_SESSION}", "position, id")
        }""",
        label="[deep]",
    ),
    Hot(
        "tickets",
        "errors_page",
        f"""select e.session_id, e.created_at as after_created_at, e.id as after_id,
                   51 as limit
            from tickets.session_errors e
            where e.id = {
            _middle(
                "tickets.session_errors",
                "id",
                f"session_id = {TICKETS_SESSION}",
                "created_at desc, id desc",
            )
        }""",
        label="[deep]",
    ),
    Hot(
        "tickets",
        "audit_page_of_session",
        f"""select {TICKETS_SESSION} as session_id,
                   {
            _middle(
                "tickets.audit_log", "id", f"recorded_session_id = {TICKETS_SESSION}", "id desc"
            )
        } as after_id,
                   51 as limit""",
        label="[deep]",
    ),
    Hot(
        "tutor",
        "chunks_page",
        f"""select {TUTOR_READING} as reading_id,
                   {_middle("tutor.chunks", "idx", f"reading_id = {TUTOR_READING}", "idx")}
                   as after_idx,
                   51 as limit""",
        label="[deep]",
    ),
    # The queue: week 1's 20,000 finished jobs are the heavy side, week 2's 5 pending
    # ones the light; a claim reads the pending ones only, whatever the table holds.
    # Workers claim unscoped (any course's jobs).
    Hot(
        "tutor",
        "claim_jobs",
        "select array['summarize'] as kinds, 5 as limit, 30.0::float8 as lease_seconds",
        scoped=False,
    ),
]


def _schema_tables(domain: str) -> str:
    return f"""
        select format('%I.%I', schemaname, tablename)
        from pg_tables where schemaname = '{domain}'
    """


async def _load(url: str, domain: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table in await conn.fetch(_schema_tables(domain)):
            await conn.execute(f"alter table {table[0]} set (autovacuum_enabled = off)")
        for statement in LOADS[domain]:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def loaded(tether_server_url: str, tether_template: str) -> Iterator[Any]:
    """A fresh copy of the database per domain, its heavy and light tenants loaded."""
    made: dict[str, str] = {}

    def database(domain: str) -> str:
        if domain not in made:
            name = f"tether_plans_{os.getpid()}_{domain}"
            url = asyncio.run(
                admin.create_database(tether_server_url, name, template=tether_template)
            )
            made[domain] = url
            asyncio.run(_load(url, domain))
        return made[domain]

    yield database
    for domain in made:
        asyncio.run(admin.drop_database(tether_server_url, f"tether_plans_{os.getpid()}_{domain}"))


@pytest.fixture
def hot_url(hot: Hot, loaded: Any) -> str:
    """The loaded database of the query's domain (made outside the test's event loop)."""
    return loaded(hot.domain)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _read(node: dict[str, Any]) -> float:
    """Rows a node read: those it returned and those its filters dropped, every loop."""
    rows = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    rows += node.get("Rows Removed by Index Recheck", 0)
    return rows * node.get("Actual Loops", 1)


def _tenant(hot: Hot, who: str) -> tuple[str, ...]:
    """`$1` of the arguments' SELECT, when it has one."""
    return (who,) if "$1" in hot.arguments else ()


async def _literals(conn: asyncpg.Connection, hot: Hot, who: str) -> str:
    """The arguments for `who`, as SQL literals in the query's order (for EXECUTE)."""
    query = getattr(queries.load(hot.domain), hot.query)
    quoted = ", ".join(f'quote_nullable(a."{name}")' for name in query.params)
    row = await conn.fetchrow(f"select {quoted} from ({hot.arguments}) as a", *_tenant(hot, who))
    return ", ".join(row)


async def _explain(
    conn: asyncpg.Connection, hot: Hot, literals: str, mode: str, tenant: str | None
) -> Any:
    """The plan (EXPLAIN ANALYZE, as JSON) of one execution, planned as `mode` says,
    scoped to `tenant` when given (as db.tenant() scopes); in a transaction that rolls
    back, so that a write leaves nothing."""
    query = getattr(queries.load(hot.domain), hot.query)
    transaction = conn.transaction()
    await transaction.start()
    if tenant is not None:
        await conn.fetchval(Q.scope_to_tenants.sql, tenant)
    await conn.execute(f"set plan_cache_mode = {mode}")
    await conn.execute("prepare measured as " + query.sql)
    try:
        explained = await conn.fetchval(
            f"explain (analyze, buffers, verbose, format json) execute measured({literals})"
        )
    finally:
        await transaction.rollback()
        await conn.execute("deallocate measured")
    [plan] = json.loads(explained)
    return plan


async def _seconds(conn: asyncpg.Connection, hot: Hot, arguments: tuple[Any, ...]) -> float:
    """The best of a few timed runs of the query as asyncpg runs it (prepared)."""
    query = getattr(queries.load(hot.domain), hot.query)
    statement = await conn.prepare(query.sql)
    best = float("inf")
    for _ in range(15):
        transaction = conn.transaction()
        await transaction.start()
        started = time.perf_counter()
        await statement.fetch(*arguments)
        best = min(best, time.perf_counter() - started)
        await transaction.rollback()
    return best


@pytest.mark.parametrize("hot", HOT, ids=lambda hot: hot.id)
async def test_a_hot_query_walks_its_index_without_statistics(hot: Hot, hot_url: str) -> None:
    query = getattr(queries.load(hot.domain), hot.query)
    conn = await asyncpg.connect(hot_url)
    try:
        analyzed = await conn.fetchval(
            "select count(*) from pg_stats where schemaname = $1", hot.domain
        )
        assert analyzed == 0, f"{hot.domain} has statistics: the test needs it un-analyzed"
        arguments, literals, tenants = {}, {}, {}
        for who in ("heavy", "light"):
            row = await conn.fetchrow(hot.arguments, *_tenant(hot, who))
            arguments[who] = query.args(dict(row))
            literals[who] = await _literals(conn, hot, who)
            tenants[who] = str(await conn.fetchval(f"select {TENANT[hot.domain]}", who))
        cost = {}
        for scoped in (False, True) if hot.scoped else (False,):
            for mode in MODES:
                for who in ("heavy", "light"):
                    tenant = tenants[who] if scoped else None
                    plan = await _explain(conn, hot, literals[who], mode, tenant)
                    cost[who, mode, scoped] = (
                        plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]
                    )
                    for node in _nodes(plan["Plan"]):
                        where = f"{hot.id} ({who}, {mode}, scoped={scoped}): {node['Node Type']}"
                        if node.get("Schema") == hot.domain:
                            assert node["Node Type"] != "Seq Scan", (where, node["Relation Name"])
                        assert _read(node) <= MOST_ROWS_READ, f"{where} read {_read(node):.0f}"
                heavy, light = cost["heavy", mode, scoped], cost["light", mode, scoped]
                assert heavy <= 5 * light + 20, (mode, scoped, cost)
        heavy = await _seconds(conn, hot, arguments["heavy"])
        light = await _seconds(conn, hot, arguments["light"])
        # A millisecond of slack for the shared machine's noise.
        assert heavy <= 5 * light + 0.001, (heavy, light)
    finally:
        await conn.close()


def test_the_docs_quote_this_test():
    """docs/guarantees.md, "When ANALYZE matters": its figures are this file's."""
    text = (Path(__file__).parents[2] / "docs" / "guarantees.md").read_text()
    section = text[text.index("## When ANALYZE matters") : text.index("## Lock order")]
    figures = [
        f"a heavy tenant ({HEAVY:,} rows)",
        f"light one ({LIGHT})",
        f"runs {len(HOT)} hot reads",
        f"more than {MOST_ROWS_READ:,} rows",
    ]
    assert [f for f in figures if f not in " ".join(section.split())] == []
