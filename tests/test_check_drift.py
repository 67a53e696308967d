"""`tether check --live`: drift made by hand in a migrated database is reported, one
line per difference; a freshly migrated database reports none; a role that may only
connect (and read the catalog, as every role may) is enough; all five domains compare
in well under 2 s.

The live database is the test's own (tether_url, a copy of the migrated template);
the reference is the template itself, which the migrations built.
"""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tether import admin
from tether.check import drift

BIN = Path(sys.executable).parent
EVERY_SCHEMA = drift.schemas_of()


@pytest.fixture
def reference_url(tether_server_url: str, tether_template: str) -> str:
    return admin.with_database(tether_server_url, tether_template)


async def execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def drifted(live_url: str, reference_url: str, *statements: str) -> list[str]:
    """The drift lines after running `statements` in the live database."""
    asyncio.run(execute(live_url, *statements))
    found = asyncio.run(drift.compare(live_url, reference_url, EVERY_SCHEMA))
    return [str(d) for d in found]


# Each kind of drift, made by hand, and the one line it must give (the whole line).
CASES = {
    "column type": (
        ["alter table planner.users alter column created_at type text"],
        "drift: column planner.users.created_at differs: the migrations make timestamp with "
        "time zone not null default now() (column 4), the database has text not null "
        "default now() (column 4)",
    ),
    "nullability": (
        ["alter table planner.users alter column email drop not null"],
        "drift: column planner.users.email differs: the migrations make text not null "
        "(column 2), the database has text (column 2)",
    ),
    "default": (
        ["alter table chat.users alter column created_at drop default"],
        "drift: column chat.users.created_at differs: the migrations make timestamp with time "
        "zone not null default now() (column 7), the database has timestamp with time zone "
        "not null (column 7)",
    ),
    "constraint definition": (
        [
            "alter table planner.users drop constraint users_name_check",
            "alter table planner.users add constraint users_name_check check (length(name) <= 100)",
        ],
        "drift: constraint planner.users.users_name_check differs: the migrations make "
        "CHECK ((length(name) <= 255)), the database has CHECK ((length(name) <= 100))",
    ),
    "constraint missing": (
        ["alter table planner.subjects drop constraint subjects_name_check"],
        "drift: constraint planner.subjects.subjects_name_check is missing (the migrations "
        "make: CHECK (((btrim(name) <> ''::text) AND (length(name) <= 255))))",
    ),
    "index extra": (
        ["create index users_email_idx on planner.users (email)"],
        "drift: index planner.users.users_email_idx is not made by the migrations (CREATE "
        "INDEX users_email_idx ON planner.users USING btree (email))",
    ),
    "index missing": (
        ["drop index planner.plans_user_id_id_idx"],
        "drift: index planner.plans.plans_user_id_id_idx is missing (the migrations make: "
        "CREATE INDEX plans_user_id_id_idx ON planner.plans USING btree (user_id, id))",
    ),
    "trigger disabled": (
        ["alter table tutor.jobs disable trigger jobs_set_updated_at"],
        "drift: trigger tutor.jobs.jobs_set_updated_at differs: the migrations make ... "
        "EXECUTE FUNCTION tutor.set_updated_at(), the database has ... EXECUTE FUNCTION "
        "tutor.set_updated_at() (disabled)",
    ),
    "trigger missing": (
        ["drop trigger plans_owner_fixed on planner.plans"],
        "drift: trigger planner.plans.plans_owner_fixed is missing (the migrations make: "
        "CREATE TRIGGER plans_owner_fixed BEFORE UPDATE OF user_id ON planner.plans FOR EACH "
        "ROW WHEN ((old.user_id IS DISTINC...)",
    ),
    "row security": (
        [
            # A global table: the migrations leave it without row-level security.
            "alter table tickets.jira_auth_tokens enable row level security",
            "alter table tickets.jira_auth_tokens force row level security",
        ],
        "drift: table tickets.jira_auth_tokens differs: the migrations make table, row "
        "security disabled, the database has table, row security enabled (forced)",
    ),
    "policy": (
        ["create policy own_rows on chat.users for select using (email is not null)"],
        "drift: policy chat.users.own_rows is not made by the migrations (permissive for "
        "select to public using ((email IS NOT NULL)))",
    ),
    "function": (
        ["alter function tutor.set_updated_at() set search_path = public"],
        "drift: function tutor.set_updated_at() differs: the migrations make ...r LANGUAGE "
        "plpgsql SET search_path TO 'pg_catalog', 'pg_temp' AS $function$ begin "
        "new.updated_at := pg_catalog.now..., the database has ...r LANGUAGE plpgsql SET "
        "search_path TO 'public' AS $function$ begin new.updated_at := pg_catalog.now(); "
        "return new;...",
    ),
    "enum": (
        ["alter type study.chat_type add value 'PRIVATE'"],
        "drift: type study.chat_type differs: the migrations make enum ('GENERAL', 'TOPIC'), "
        "the database has enum ('GENERAL', 'TOPIC', 'PRIVATE')",
    ),
    "table extra": (
        ["create table planner.notes (id bigint primary key, body text not null)"],
        "drift: table planner.notes is not made by the migrations, with its 4 columns, "
        "constraints, indexes... (table, row security disabled)",
    ),
    "view extra": (
        ["create view planner.user_emails as select id, email from planner.users"],
        "drift: view planner.user_emails is not made by the migrations, with its 2 columns, "
        "constraints, indexes... (SELECT id, email FROM planner.users;)",
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_of_drift_is_one_line(kind, tether_url, reference_url):
    statements, line = CASES[kind]
    assert drifted(tether_url, reference_url, *statements) == [line]


def test_a_freshly_migrated_database_has_no_drift(tether_url, reference_url):
    started = time.perf_counter()
    assert drifted(tether_url, reference_url) == []
    elapsed = time.perf_counter() - started
    print(f"five domains compared in {elapsed:.3f} s")
    assert elapsed < 2


def test_a_dropped_column_and_a_moved_one(tether_url, reference_url):
    """A column dropped by hand is missing, and the ones after it move up a place."""
    lines = drifted(tether_url, reference_url, "alter table planner.users drop column name")
    assert lines == [
        "drift: column planner.users.created_at differs: the migrations make timestamp with "
        "time zone not null default now() (column 4), the database has timestamp with time "
        "zone not null default now() (column 3)",
        "drift: column planner.users.name is missing (the migrations make: text (column 3))",
        "drift: constraint planner.users.users_name_check is missing (the migrations make: "
        "CHECK ((length(name) <= 255)))",
    ]


@pytest.fixture
def catalog_reader(tether_url):
    """A role that may connect to the test's database and nothing else: no table, no
    schema of the domains; the catalog is readable by every role."""
    role = f"tether_reader_{os.getpid()}"
    database = urlsplit(tether_url).path.lstrip("/")
    asyncio.run(
        execute(
            tether_url,
            f"drop role if exists {role}",
            f"create role {role} login nosuperuser nocreatedb nocreaterole",
            f"grant connect on database {database} to {role}",
        )
    )
    parts = urlsplit(tether_url)
    host = parts.netloc.rpartition("@")[2]
    yield urlunsplit(parts._replace(netloc=f"{role}@{host}"))
    asyncio.run(execute(tether_url, f"drop owned by {role}", f"drop role {role}"))


def test_a_role_that_may_only_connect_is_enough(catalog_reader, tether_url, reference_url):
    async def refused() -> str:
        conn = await asyncpg.connect(catalog_reader)
        try:
            await conn.fetch("select * from planner.users")
        except asyncpg.InsufficientPrivilegeError as error:
            return str(error)
        finally:
            await conn.close()
        return "read"

    assert asyncio.run(refused()).startswith("permission denied")
    assert asyncio.run(drift.compare(catalog_reader, reference_url, EVERY_SCHEMA)) == []
    lines = drifted(
        tether_url, reference_url, "alter table chat.users alter column created_at type text"
    )
    as_reader = asyncio.run(drift.compare(catalog_reader, reference_url, EVERY_SCHEMA))
    assert [str(d) for d in as_reader] == lines
    assert len(lines) == 1


def test_the_command_exits_1_with_the_drift_and_0_without(tether_server_url, tether_url):
    def live(*domains: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                BIN / "tether",
                "--database",
                tether_server_url,
                "check",
                "--live",
                tether_url,
                *domains,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    clean = live("planner")
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr
    assert "as the migrations make them" in clean.stderr
    asyncio.run(execute(tether_url, "alter table planner.users alter column created_at type text"))
    found = live("planner")
    assert found.returncode == 1, found.stderr
    assert found.stdout.splitlines() == [
        "drift: column planner.users.created_at differs: the migrations make timestamp with "
        "time zone not null default now() (column 4), the database has text not null "
        "default now() (column 4)"
    ]
    assert "1 difference(s)" in found.stderr
    other_domain = live("chat")
    assert other_domain.returncode == 0, other_domain.stdout
    # Without a URL, `--live DOMAIN` reads the database --database names.
    itself = subprocess.run(
        [BIN / "tether", "--database", tether_url, "check", "--live", "planner"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (itself.returncode, itself.stdout.splitlines()) == (1, found.stdout.splitlines())
