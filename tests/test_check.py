"""`tether check`: the queries and the schema pass on main, and each kind of mistake
is reported at its file and line.

Mistakes are made in copies (a copy of sql/ in a temporary folder, extra tables in
the test's own database), never in the real files.
"""

import datetime as dt
import enum
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pytest
from attrs import frozen
from pgvector import Vector

from tether import check, queries
from tether.check import statements
from tether.check.pytypes import PgType, fits
from tether.check.schema import MigrationSource, rollback_findings
from tether.planner import rules as planner_rules
from tether.planner.records import CalendarTask
from tether.resources import migrations_dir, sql_dir

BIN = Path(sys.executable).parent


def line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    found = [number for number, line in enumerate(lines, start=1) if text in line]
    assert len(found) == 1, f"{text!r} should be on exactly one line of {path}"
    return found[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new))


def at(findings: list[check.Finding], path: Path) -> list[check.Finding]:
    return [f for f in findings if Path(f.path).resolve() == path.resolve()]


@pytest.fixture
def sql_copy(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    return root


async def test_main_passes(tether_url):
    report = await check.run(tether_url)
    assert report.findings == [], "\n".join(map(str, report.findings))
    every_query = sum(len(queries.load(p.name)) for p in sql_dir().iterdir() if p.is_dir())
    assert report.query_count == every_query
    assert "planner" in report.schemas


def test_the_command_passes_on_a_scratch_database(tether_server_url):
    done = subprocess.run(
        [str(BIN / "tether"), "--database", tether_server_url, "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "no findings" in done.stderr


GET_USER = "select id, email, name, created_at\nfrom planner.users\nwhere id = :id"


@pytest.mark.parametrize(
    ("select", "complaint"),
    [
        ("select id, email as mail, name, created_at", "no column for email; no field for mail"),
        ("select id, email, created_at", "no column for name"),
        ("select id, name, email, created_at", "same names in another order"),
    ],
    ids=["renamed", "removed", "reordered"],
)
async def test_a_column_out_of_step_with_its_record_fails_at_the_query(
    tether_url, sql_copy, select, complaint
):
    users = sql_copy / "planner" / "users.sql"
    edit(users, GET_USER, GET_USER.replace("select id, email, name, created_at", select))
    report = await check.run(tether_url, sql_root=sql_copy)
    [finding] = report.findings
    assert Path(finding.path) == users
    assert finding.line == line_of(users, "-- name: get_user")
    assert "query get_user" in finding.message
    assert "User (id, email, name, created_at)" in finding.message
    assert complaint in finding.message
    assert str(finding).startswith(f"{users}:{finding.line}: query get_user: ")


@pytest.mark.parametrize(
    ("file", "old", "new", "said"),
    [
        (
            "users.sql",
            "where lower(email) = lower(:email)",
            "where lower(emial) = lower(:email)",
            'query find_user_by_email: column "emial" does not exist (hint: Perhaps you meant '
            'to reference the column "users.email".)',
        ),
        (
            "plans.sql",
            "order by head.id desc",
            "order head.id desc",
            'query list_generations: syntax error at or near "head"',
        ),
    ],
    ids=["unknown-column", "syntax-error"],
)
async def test_sql_the_server_refuses_is_reported_at_its_line(
    tether_url, sql_copy, file, old, new, said
):
    path = sql_copy / "planner" / file
    edit(path, old, new)
    [finding] = (await check.run(tether_url, sql_root=sql_copy)).findings
    assert (Path(finding.path), finding.line) == (path, line_of(path, new))
    assert finding.message == said


async def test_a_column_of_another_type_is_reported(tether_url, sql_copy):
    users = sql_copy / "planner" / "users.sql"
    edit(users, GET_USER, GET_USER.replace("created_at\n", "created_at::date as created_at\n"))
    [finding] = (await check.run(tether_url, sql_root=sql_copy)).findings
    assert finding.line == line_of(users, "-- name: get_user")
    assert "column created_at is date, but User.created_at is datetime" in finding.message


def subject_names_from_users(sql_copy: Path, name: str) -> Path:
    """list_subjects, with each subject's name taken from its student as `name`."""
    subjects = sql_copy / "planner" / "subjects.sql"
    edit(
        subjects,
        "select id, student_id, name, created_at\nfrom planner.subjects\n",
        f"select s.id, s.student_id, {name} as name, s.created_at\nfrom planner.subjects s\n"
        "join planner.users u on u.id = s.student_id\n",
    )
    return subjects


async def test_a_nullable_table_column_in_a_field_without_none_is_reported(tether_url, sql_copy):
    subjects = subject_names_from_users(sql_copy, "u.name")
    [finding] = (await check.run(tether_url, sql_root=sql_copy)).findings
    assert finding.line == line_of(subjects, "-- name: list_subjects")
    assert "column name comes from planner.users.name, which can be NULL" in finding.message
    assert "Subject.name is str" in finding.message


async def test_an_expression_is_not_judged_for_null(tether_url, sql_copy):
    subject_names_from_users(sql_copy, "coalesce(u.name, '')")
    assert (await check.run(tether_url, sql_root=sql_copy)).findings == []


@frozen
class Pair:
    id: int
    email: str


CASES = """\
-- name: pair :one
select id, email from planner.users where id = :id;

-- name: unbound_pair :many
select id, email from planner.users;

-- name: two_values :val
select id, email from planner.users where id = :id;

-- name: delete_returning :exec
delete from planner.users where id = :id returning id;
"""


async def test_a_query_no_repository_runs_is_a_finding(tether_url, sql_copy):
    users = sql_copy / "planner" / "users.sql"
    users.write_text(
        users.read_text() + "\n-- name: count_users :val\nselect count(*) from planner.users;\n"
    )
    report = await check.run(tether_url, sql_root=sql_copy)
    [finding] = report.findings
    assert (Path(finding.path), finding.line) == (users, line_of(users, "-- name: count_users"))
    assert finding.message.startswith("query count_users is run by no repository")


async def test_a_query_folder_of_no_domain_is_a_finding(tether_url, sql_copy):
    (sql_copy / "orphans").mkdir()
    report = await check.run(tether_url, sql_root=sql_copy)
    [finding] = report.findings
    assert finding.message == "query folder orphans belongs to no domain of tether.domains"


async def test_commands_are_held_to_their_columns(tether_url, tmp_path):
    (tmp_path / "checkcases").mkdir()
    cases = tmp_path / "checkcases" / "cases.sql"
    cases.write_text(CASES)
    queries.load("checkcases", root=tmp_path).pair.returning(Pair)
    report = await check.run(tether_url, sql_root=tmp_path, folders=["checkcases"])
    found = {f.line: f.message for f in report.findings}
    assert set(found) == {
        line_of(cases, "-- name: unbound_pair"),
        line_of(cases, "-- name: two_values"),
        line_of(cases, "-- name: delete_returning"),
    }
    assert "unbound_pair: :many needs a record" in found[line_of(cases, "unbound_pair")]
    assert (
        ":val returns exactly one column, this query returns (id, email)"
        in (found[line_of(cases, "two_values")])
    )
    assert (
        ":exec returns no rows, but this query returns (id)"
        in (found[line_of(cases, "delete_returning")])
    )


def test_parameters_are_counted_against_the_query(tether_url):
    query = queries.load("catalog").database_exists
    bent = attrs.evolve(query, params=("name", "extra"))
    described, refused = statements.describe(tether_url, [bent])
    assert refused == []
    [finding] = statements.judge(described[0], {}, {})
    assert "PostgreSQL sees 1 parameter(s), the query names 2 (:name, :extra)" in finding.message


class Status(enum.StrEnum):
    ACTIVE = "ACTIVE"


INT8 = PgType("int8", "b")
TEXT = PgType("text", "b")


@pytest.mark.parametrize(
    ("column", "hint", "verdict"),
    [
        (INT8, int, True),
        (INT8, int | None, True),
        (INT8, bool, False),
        (INT8, str, False),
        (PgType("timestamptz", "b"), dt.datetime, True),
        (PgType("timestamptz", "b"), dt.date, False),
        (PgType("date", "b"), dt.datetime, False),
        (PgType("uuid", "b"), uuid.UUID, True),
        (PgType("jsonb", "b"), dict[str, Any], True),
        (PgType("jsonb", "b"), list[Any], True),
        (PgType("vector", "b"), Vector, True),
        (PgType("vector", "b"), list[float], False),
        (PgType("vector", "b"), np.ndarray, True),
        (PgType("vector", "b"), npt.NDArray[np.float32] | None, True),
        (PgType("halfvec", "b"), npt.NDArray[np.float16], True),
        (PgType("sparsevec", "b"), np.ndarray, False),
        (PgType("session_status", "e"), str, True),
        (PgType("session_status", "e"), Status, True),
        (PgType("session_status", "e"), Literal["ACTIVE", "COMPLETED"], True),
        (PgType("_text", "b", TEXT), list[str], True),
        (PgType("_text", "b", TEXT), tuple[str, ...], True),
        (PgType("_text", "b", TEXT), list[int], False),
        (PgType("_text", "b", TEXT), str, False),
        (PgType("record", "p"), CalendarTask, True),
        (PgType("_record", "p", PgType("record", "p")), tuple[CalendarTask, ...], True),
        (PgType("_record", "p", PgType("record", "p")), int, False),
        (PgType("tsvector", "b"), str, None),
        (PgType("tsvector", "b"), Any, True),
    ],
)
def test_the_type_table(column, hint, verdict):
    assert fits(column, hint) is verdict


PROBLEMS = """\
-- depends: planner_0001_schema
create schema checkcases;
create table checkcases.parents (
    id bigint generated always as identity primary key,
    code text not null constraint parents_code_check check (code <> '')
);
create table checkcases.children (
    id bigint generated always as identity primary key,
    parent_id bigint not null constraint children_parent_id_fkey references checkcases.parents,
    position int not null
);
create index children_position_idx on checkcases.children (position);
create index children_position_again_idx on checkcases.children (position);
create index parents_code_idx on checkcases.parents (code);
create index parents_code_id_idx on checkcases.parents (code, id);
create function checkcases.refuse() returns trigger language plpgsql as $$
begin
    raise exception 'no';
end
$$;
create trigger parents_refuse before delete on checkcases.parents
    for each row execute function checkcases.refuse();
"""


async def test_schema_problems_are_reported_where_the_migration_makes_them(
    tether_db, tether_url, tmp_path
):
    migrations = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), migrations)
    (migrations / "checkcases").mkdir()
    made = migrations / "checkcases" / "checkcases_0001_problems.sql"
    made.write_text(PROBLEMS)
    async with tether_db.connection() as conn:
        await conn.execute(PROBLEMS)
    report = await check.run(tether_url, migrations_root=migrations)
    found: dict[tuple[Path, int], list[str]] = {}
    for finding in report.findings:
        found.setdefault((Path(finding.path), finding.line), []).append(finding.message)

    def said(text: str, where: str) -> bool:
        return any(text in message for message in found.get((made, line_of(made, where)), []))

    assert "checkcases" in report.schemas
    assert said(
        "foreign key children_parent_id_fkey (parent_id) has no index", "children_parent_id_fkey"
    )
    assert said("rule children_parent_id_fkey has no plain words", "children_parent_id_fkey")
    assert said(
        "index children_position_again_idx is redundant: children_position_idx",
        "create index children_position_again_idx",
    )
    assert said(
        "index parents_code_idx is redundant: parents_code_id_idx", "create index parents_code_idx"
    )
    assert said("rule parents_code_check has no plain words", "parents_code_check")
    assert said(
        "trigger parents_refuse raises an error without naming a constraint",
        "create trigger parents_refuse",
    )
    assert found[(made, 1)] == [f"migration {made.stem} has no {made.stem}.rollback.sql"]
    assert len(report.findings) == 7, "\n".join(map(str, report.findings))


async def test_rules_are_held_to_the_schema(tether_db, tether_url, monkeypatch):
    async with tether_db.connection() as conn:
        await conn.execute(
            "alter table planner.feedback add constraint feedback_short_check "
            "check (length(content) < 10000)"
        )
    monkeypatch.setitem(planner_rules.RULES, "gone_check", "a rule of an old migration")
    findings = (await check.run(tether_url)).findings
    messages = sorted(f.message for f in findings)
    assert messages == [
        "RULES names gone_check, but schema planner has no constraint, index or trigger "
        "of that name",
        "planner.feedback: rule feedback_short_check has no plain words: add it to RULES in "
        "tether.planner.rules",
    ]
    [stale] = at(findings, Path(planner_rules.__file__))
    assert "gone_check" in stale.message


def test_every_migration_needs_a_rollback_with_sql(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo_0001_a.sql").write_text("create table a ();\n")
    (folder / "demo_0001_a.rollback.sql").write_text("drop table a;\n")
    (folder / "demo_0002_b.sql").write_text("create table b ();\n")
    (folder / "demo_0003_c.sql").write_text("create table c ();\n")
    (folder / "demo_0003_c.rollback.sql").write_text("-- nothing\n")
    (folder / "demo_0004_d.rollback.sql").write_text("drop table d;\n")
    found = [(Path(f.path).name, f.message) for f in rollback_findings(tmp_path)]
    assert found == [
        ("demo_0002_b.sql", "migration demo_0002_b has no demo_0002_b.rollback.sql"),
        ("demo_0003_c.rollback.sql", "the rollback of demo_0003_c is empty"),
        ("demo_0004_d.rollback.sql", "a rollback without a migration demo_0004_d.sql"),
    ]


def test_findings_inside_the_working_directory_are_relative(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    inside = check.Finding.at(tmp_path / "sql" / "x.sql", 3, "m")
    outside = check.Finding.at(Path(os.sep) / "elsewhere" / "x.sql", 3, "m")
    assert str(inside) == f"{Path('sql') / 'x.sql'}:3: m"
    assert str(outside) == f"{Path(os.sep) / 'elsewhere' / 'x.sql'}:3: m"


async def test_a_repository_module_that_cannot_be_imported_is_a_finding(
    tether_url, tmp_path, monkeypatch
):
    broken = tmp_path / "broken_repositories.py"
    broken.write_text("raise AttributeError(\"no query named 'get_usr' in sql/planner/\")\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(check, "BINDING_MODULES", (*check.BINDING_MODULES, "broken_repositories"))
    [finding] = (await check.run(tether_url)).findings
    assert (Path(finding.path), finding.line) == (broken, 1)
    assert finding.message == (
        "cannot import broken_repositories: AttributeError: no query named 'get_usr' in "
        "sql/planner/"
    )


def test_a_schema_finding_points_into_the_schemas_own_migrations(tmp_path):
    for schema in ("chat", "planner"):
        (tmp_path / schema).mkdir()
        (tmp_path / schema / f"{schema}_0001.sql").write_text(
            f"-- users_email_key in a comment does not count\ncreate table {schema}.users ();\n"
            f"create unique index users_email_key on {schema}.users (lower(email));\n"
        )
    source = MigrationSource(tmp_path)
    assert source.locate("planner", "users_email_key") == (tmp_path / "planner/planner_0001.sql", 3)
    assert source.locate("planner", "users_pkey", "planner.users") == (
        tmp_path / "planner/planner_0001.sql",
        2,
    )
    assert source.locate("tutor", "nothing") == (tmp_path, 1)


def test_a_file_the_loader_refuses_is_a_finding_at_its_line(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "orders.sql").write_text(
        "-- name: fine :val\nselect 1;\n\n-- name: broken :val\nselect 'open\n"
    )
    loaded, findings = check.load_queries(tmp_path, ["shop"])
    assert loaded == []
    [finding] = findings
    assert (Path(finding.path).name, finding.line) == ("orders.sql", 4)
    assert finding.message == "query 'broken': unterminated string literal"
