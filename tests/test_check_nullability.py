"""What `tether check` infers about NULL from a query's generic plan (tether.check.nullability),
pinned on a table of tricky statements.

Each case gives, per result column, the verdict the check must give and whether the
column can really be NULL (by hand, from the SQL's meaning). The counts of false
positives ("nullable" for a column that never is) and of misses ("unknown" for one
that can be) are printed and pinned; a false "not null" must never happen. Every
statement also runs, on small tables and on empty ones: a NULL seen in a column the
check calls "not null" fails the test, whatever the table says.
"""

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tether import check
from tether.check.nullability import NullabilityCatalog, PlanReader, explain, strip_parens
from tether.database import Database
from tether.queries import parse
from tether.resources import sql_dir

TABLES = """
create schema nulls;
create table nulls.a (id int primary key, name text not null, note text);
create table nulls.b (id int primary key, a_id int not null references nulls.a,
                      title text not null, score int);
create table nulls.c (id int primary key, b_id int not null references nulls.b,
                      body text not null);
"""
# a 3 has no b; b 11 and 12 have no c; a 1's scores are NULL and 5.
ROWS = """
insert into nulls.a values (1, 'one', null), (2, 'two', 'n2'), (3, 'three', null);
insert into nulls.b values (10, 1, 't10', null), (11, 1, 't11', 5), (12, 2, 't12', 7);
insert into nulls.c values (100, 10, 'c100');
"""

NN, NULLABLE, UNKNOWN = "not null", "nullable", "unknown"

# name: (statement, [(verdict, can really be NULL), ...] per column)
CASES: dict[str, tuple[str, list[tuple[str, bool]]]] = {
    "table columns": (
        "select id, name, note from nulls.a",
        [(NN, False), (NN, False), (NULLABLE, True)],
    ),
    "left join": (
        "select a.name, b.title from nulls.a left join nulls.b on b.a_id = a.id",
        [(NN, False), (NULLABLE, True)],
    ),
    "right join": (
        "select a.name, b.title from nulls.b right join nulls.a on b.a_id = a.id",
        [(NN, False), (NULLABLE, True)],
    ),
    "full join": (
        "select a.name, b.title from nulls.a full join nulls.b on b.a_id = a.id and b.score > 5",
        [(NULLABLE, True), (NULLABLE, True)],
    ),
    "full join a foreign key always matches (a false positive)": (
        "select a.name from nulls.b full join nulls.a on a.id = b.a_id",
        [(NULLABLE, False)],
    ),
    "left join that WHERE makes inner": (
        "select a.name, b.title from nulls.a left join nulls.b on b.a_id = a.id "
        "where b.title <> ''",
        [(NN, False), (NN, False)],
    ),
    "inner join nested on the nullable side": (
        "select a.name, b.title, c.body from nulls.a "
        "left join (nulls.b join nulls.c on c.b_id = b.id) on b.a_id = a.id",
        [(NN, False), (NULLABLE, True), (NULLABLE, True)],
    ),
    "left join nested in an inner join": (
        "select b.title, c.body from nulls.b join nulls.a on a.id = b.a_id "
        "left join nulls.c on c.b_id = b.id",
        [(NN, False), (NULLABLE, True)],
    ),
    "left join lateral": (
        "select a.id, l.title from nulls.a left join lateral "
        "(select title from nulls.b where b.a_id = a.id order by b.id limit 1) l on true",
        [(NN, False), (NULLABLE, True)],
    ),
    "cross join lateral": (
        "select a.id, l.title from nulls.a cross join lateral "
        "(select title from nulls.b where b.a_id = a.id order by b.id limit 1) l",
        [(NN, False), (NN, False)],
    ),
    "CTE the planner inlines": (
        "with x as (select a_id, title from nulls.b) "
        "select a.name, x.title from nulls.a left join x on x.a_id = a.id",
        [(NN, False), (NULLABLE, True)],
    ),
    "CTE kept (materialized)": (
        "with x as materialized (select title, score from nulls.b) select title, score from x",
        [(UNKNOWN, False), (UNKNOWN, True)],
    ),
    "aggregate subquery on the nullable side": (
        "select a.id, x.n from nulls.a left join "
        "(select a_id, count(*) as n from nulls.b group by a_id) x on x.a_id = a.id",
        [(NN, False), (NULLABLE, True)],
    ),
    "COALESCE": (
        "select coalesce(b.title, 'none'), coalesce(b.score, a.id), coalesce(b.title, a.note), "
        "coalesce(b.title, lower(a.note)) from nulls.a left join nulls.b on b.a_id = a.id",
        [(NN, False), (NN, False), (NULLABLE, True), (UNKNOWN, True)],
    ),
    "aggregates without GROUP BY": (
        "select count(*), max(name), sum(id), array_agg(id), coalesce(max(name), '') "
        "from nulls.a where id > 100",
        [(NN, False), (NULLABLE, True), (NULLABLE, True), (NULLABLE, True), (NN, False)],
    ),
    "aggregates with GROUP BY": (
        "select a_id, count(*), max(title), max(score), array_agg(id), "
        "sum(score) filter (where score > 6) from nulls.b group by a_id",
        [(NN, False), (NN, False), (NN, False), (UNKNOWN, True), (NN, False), (NULLABLE, True)],
    ),
    "count with FILTER": (
        "select count(*) filter (where note is null) from nulls.a",
        [(NN, False)],
    ),
    "UNION ALL": (
        "select name, note from nulls.a union all select title, title from nulls.b",
        [(NN, False), (NULLABLE, True)],
    ),
    "UNION": (
        "select name from nulls.a union select title from nulls.b",
        [(UNKNOWN, False)],
    ),
    "correlated EXISTS": (
        "select a.id, exists (select 1 from nulls.b where b.a_id = a.id and b.score > a.id) "
        "from nulls.a",
        [(NN, False), (NN, False)],
    ),
    "EXISTS the planner hashes": (
        "select exists (select 1 from nulls.b where b.a_id = a.id) from nulls.a",
        [(UNKNOWN, False)],
    ),
    "uncorrelated EXISTS": (
        "select exists (select 1 from nulls.b)",
        [(NN, False)],
    ),
    "scalar subquery": (
        "select a.id, (select b.title from nulls.b where b.a_id = a.id order by b.id limit 1) "
        "from nulls.a",
        [(NN, False), (NULLABLE, True)],
    ),
    "scalar subquery a foreign key always finds (a false positive)": (
        "select (select a.name from nulls.a where a.id = b.a_id) from nulls.b",
        [(NULLABLE, False)],
    ),
    "scalar subqueries of an aggregate": (
        "select (select count(*) from nulls.b where b.a_id = a.id), "
        "(select max(b.title) from nulls.b where b.a_id = a.id) from nulls.a",
        [(NN, False), (NULLABLE, True)],
    ),
    "ARRAY subqueries": (
        "select array(select b.title from nulls.b where b.a_id = a.id), "
        "array(select title from nulls.b) from nulls.a",
        [(NN, False), (UNKNOWN, False)],
    ),
    "window functions": (
        "select name, row_number() over (order by id), lag(name) over (order by id), "
        "count(*) over () from nulls.a",
        [(NN, False), (NN, False), (UNKNOWN, True), (NN, False)],
    ),
    "ROLLUP": (
        "select name, count(*) from nulls.a group by rollup (name)",
        [(NULLABLE, True), (NN, False)],
    ),
    "INSERT RETURNING": (
        "insert into nulls.a (id, name) values (9, 'nine') returning id, name, note",
        [(NN, False), (NN, False), (NULLABLE, True)],
    ),
    "RETURNING old and new": (
        "insert into nulls.a (id, name) values (1, 'uno') on conflict (id) "
        "do update set name = excluded.name returning old.name, new.name, new.note",
        [(NULLABLE, True), (NN, False), (NULLABLE, True)],
    ),
    "DELETE RETURNING old and new": (
        "delete from nulls.a where id = 3 returning old.name, new.name",
        [(NN, False), (NULLABLE, True)],
    ),
    "UPDATE FROM RETURNING": (
        "update nulls.a set note = b.title from nulls.b where b.a_id = a.id "
        "returning a.id, b.title, b.score",
        [(NN, False), (NN, False), (NULLABLE, True)],
    ),
    "casts and constants": (
        "select a.id::text, b.score::text, 1, null::text "
        "from nulls.a left join nulls.b on b.a_id = a.id",
        [(NN, False), (NULLABLE, True), (NN, False), (NULLABLE, True)],
    ),
    "operators after a constant, a cast, IS NULL, count()": (
        "select 'x' || b.title, a.id::text || b.title, b.title is null or b.score > 1, "
        "count(*) filter (where b.score > 1) over () + b.score "
        "from nulls.a left join nulls.b on b.a_id = a.id",
        [(UNKNOWN, True), (UNKNOWN, True), (UNKNOWN, True), (UNKNOWN, True)],
    ),
    "scalar subquery of an aggregate with HAVING": (
        "select (select count(*) from nulls.b having count(*) > 5)",
        [(NULLABLE, True)],
    ),
    "CASE": (
        "select case when note is null then 'none' else note end from nulls.a",
        [(UNKNOWN, False)],
    ),
}


async def inferred(url: str, statements: list[str]) -> list[list[str]]:
    """The check's verdict on each column of each statement."""
    with psycopg.connect(url, autocommit=True) as conn:
        named = parse(
            "".join(f"-- name: q{i} :many\n{sql};\n" for i, sql in enumerate(statements)),
            Path("tricky.sql"),
            "tricky",
        )
        plans = [explain(conn, query) for query in named]
        arrays = []
        for sql in statements:
            conn.pgconn.prepare(b"", sql.encode())
            described = conn.pgconn.describe_prepared(b"")
            oids = [described.ftype(i) for i in range(described.nfields)]
            row = conn.execute(
                "select array_agg(t.typcategory = 'A' order by o.n) "
                "from unnest(%s::oid[]) with ordinality o (oid, n) join pg_type t on t.oid = o.oid",
                [oids],
            ).fetchone()
            arrays.append(list(row[0]) if row else [])
    async with Database(url, min_size=1, max_size=1) as db:
        tables = {("nulls", name) for name in "abc"}
        not_null = await NullabilityCatalog(db).not_null(tables)
    lookup = lambda *column: not_null.get(column)  # noqa: E731
    verdicts = []
    for plan, is_array in zip(plans, arrays, strict=True):
        assert plan is not None
        reader = PlanReader(plan, lookup)
        verdicts.append([v.state for v in reader.columns(len(is_array), is_array)])
    return verdicts


def nulls_seen(url: str, statements: list[str]) -> list[list[bool]]:
    """Whether each column held a NULL, run on the rows above and on empty tables
    (each run rolled back)."""
    seen = []
    with psycopg.connect(url) as conn:
        for sql in statements:
            columns: list[bool] = []
            for setup in (ROWS, "select 1"):
                conn.execute(setup)
                rows = conn.execute(sql).fetchall()
                conn.rollback()
                width = len(rows[0]) if rows else len(columns)
                columns = columns or [False] * width
                for row in rows:
                    columns = [
                        held or value is None for held, value in zip(columns, row, strict=True)
                    ]
            seen.append(columns)
    return seen


@pytest.fixture
def nulls_url(tether_url):
    with psycopg.connect(tether_url, autocommit=True) as conn:
        conn.execute(TABLES)
    return tether_url


def test_the_verdicts_on_tricky_statements(nulls_url):
    names = list(CASES)
    statements = [CASES[name][0] for name in names]
    got = asyncio.run(inferred(nulls_url, statements))
    seen = nulls_seen(nulls_url, statements)
    counts: Counter[str] = Counter()
    wrong = []
    for name, verdicts, held in zip(names, got, seen, strict=True):
        expected = CASES[name][1]
        if verdicts != [verdict for verdict, _ in expected]:
            wrong.append(f"{name}: {verdicts} != {[verdict for verdict, _ in expected]}")
        for verdict, (_, can_be_null), was_null in zip(verdicts, expected, held, strict=True):
            assert not (was_null and verdict == NN), f"{name}: a NULL in a 'not null' column"
            assert not (was_null and not can_be_null), f"{name}: the table says never NULL"
            counts[_outcome(verdict, can_be_null)] += 1
    assert not wrong, "\n".join(wrong)
    print("\nverdicts over", sum(counts.values()), "columns:", dict(sorted(counts.items())))
    assert counts["false not null"] == 0
    assert counts == {
        "proven not null": 41,
        "caught NULL": 28,
        "false positive": 2,
        "missed (unknown)": 8,
        "unknown, never NULL": 5,
    }


def _outcome(verdict: str, can_be_null: bool) -> str:
    if verdict == NN:
        return "false not null" if can_be_null else "proven not null"
    if verdict == NULLABLE:
        return "caught NULL" if can_be_null else "false positive"
    return "missed (unknown)" if can_be_null else "unknown, never NULL"


@pytest.mark.parametrize(
    ("text", "bare"),
    [("((a.id))", "a.id"), ("(a.id) = (b.id)", "(a.id) = (b.id)"), ("('(')", "'('")],
)
def test_strip_parens_only_removes_parentheses_around_the_whole(text, bare):
    assert strip_parens(text) == bare


@pytest.fixture
def sql_copy(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    return root


LIST_SUBJECTS = "select id, student_id, name, created_at\nfrom planner.subjects\n"


@pytest.mark.parametrize(
    ("name", "joined", "reason"),
    [
        (
            "u.email",
            "left join planner.users u on u.id = s.student_id\n",
            "from the nullable side of an outer join (u)",
        ),
        (
            "(select max(u.email) from planner.users u where u.id = s.student_id)",
            "",
            "max() over no rows",
        ),
        (
            "(select u.email from planner.users u where u.id = s.student_id)",
            "",
            "a scalar subquery, NULL when it finds no row",
        ),
    ],
    ids=["left-join", "max-over-no-rows", "scalar-subquery"],
)
async def test_a_not_null_column_that_can_still_be_null_is_a_finding(
    tether_url, sql_copy, name, joined, reason
):
    """planner.users.email is NOT NULL, but not once it passes through these."""
    subjects = sql_copy / "planner" / "subjects.sql"
    select = f"select s.id, s.student_id, {name} as name, s.created_at\nfrom planner.subjects s\n"
    text = subjects.read_text()
    assert text.count(LIST_SUBJECTS) == 1
    subjects.write_text(text.replace(LIST_SUBJECTS, select + joined))
    report = await check.run(tether_url, sql_root=sql_copy)
    [finding] = report.findings
    line = 1 + text[: text.index("-- name: list_subjects")].count("\n")
    assert (Path(finding.path), finding.line) == (subjects, line)
    assert finding.message == (
        f"query list_subjects: column name can be NULL ({reason}), but Subject.name is str "
        "(make it Optional, or select a value that is never NULL)"
    )


async def test_unknown_is_a_note_never_a_finding(tether_url, sql_copy):
    """A column the plan does not decide (here, of a materialized CTE) fails nothing;
    `--verbose` lists it."""
    subjects = sql_copy / "planner" / "subjects.sql"
    text = subjects.read_text()
    kept = (
        "with kept as materialized (select * from planner.subjects)\n"
        "select id, student_id, name, created_at\nfrom kept\n"
    )
    subjects.write_text(text.replace(LIST_SUBJECTS, kept))
    report = await check.run(tether_url, sql_root=sql_copy)
    assert report.findings == []
    notes = [str(n) for n in report.undecided if "list_subjects" in n.message]
    assert len(notes) == 4
    assert notes[0].endswith(
        "query list_subjects: column created_at: NULL unknown (a column of CTE Scan kept)"
    )
