"""Migrations: tether's API and CLI, and plain `yoyo apply` from the repository root,
all build the same schema; everything rolls back and applies again. A service that
uses one domain applies `common` and that domain only, and rolls back that domain
only."""

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from yoyo import read_migrations

from tether import admin, migrations

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
async def empty_url(tether_server_url):
    async with admin.scratch_database(tether_server_url, f"tether_m{os.getpid()}") as url:
        yield url


async def schema_facts(url: str) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        return dict(
            await conn.fetchrow(
                """
                select (select count(*) from pg_tables where schemaname = 'planner') as tables,
                       (select count(*) from pg_constraint
                         where connamespace = to_regnamespace('planner') and contype = 'f')
                           as foreign_keys,
                       (select count(*) from pg_extension where extname = 'vector') as vector,
                       (select count(*) from pg_namespace where nspname = 'planner') as schema
                """
            )
        )
    finally:
        await conn.close()


BUILT = {"tables": 5, "foreign_keys": 5, "vector": 1, "schema": 1}
EMPTY = {"tables": 0, "foreign_keys": 0, "vector": 0, "schema": 0}
# Every migration, in the order tether applies them: common first, then each domain's;
# and what a service using the planner alone applies.
ALL = [step.id for step in read_migrations(*map(str, migrations.sources()))]
PLANNER_ALONE = [step.id for step in read_migrations(*map(str, migrations.sources(["planner"])))]
PLANNER_OWN = [m for m in PLANNER_ALONE if m.startswith("planner_")]
COMMON = [m for m in PLANNER_ALONE if m.startswith("common_")]


def test_every_migration_has_a_rollback():
    for folder in migrations.sources():
        for path in folder.glob("*.sql"):
            if not path.name.endswith(".rollback.sql"):
                assert path.with_suffix(".rollback.sql").exists(), path


async def test_apply_roll_back_and_apply_again(empty_url):
    said: list[str] = []
    assert migrations.migrate(empty_url, progress=said.append) == ALL
    assert said == [f"applying {m}" for m in ALL]
    assert await schema_facts(empty_url) == BUILT
    assert migrations.migrate(empty_url) == []
    assert migrations.status(empty_url) == [(m, True) for m in ALL]

    assert migrations.rollback(empty_url, count=None, domain="planner") == PLANNER_OWN[::-1]
    assert migrations.status(empty_url) == [(m, m not in PLANNER_OWN) for m in ALL]
    assert await schema_facts(empty_url) == {**EMPTY, "vector": 1}
    rest = [m for m in ALL if m not in PLANNER_OWN]
    assert migrations.rollback(empty_url, count=None) == rest[::-1]
    assert await schema_facts(empty_url) == EMPTY

    assert migrations.migrate(empty_url) == ALL
    assert await schema_facts(empty_url) == BUILT


def run(*command: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_plain_yoyo_apply_from_the_repository_root(empty_url):
    yoyo_url = migrations.yoyo_url(empty_url)
    run(str(BIN / "yoyo"), "apply", "--batch", "--database", yoyo_url)
    assert await schema_facts(empty_url) == BUILT
    assert migrations.status(empty_url) == [(m, True) for m in ALL]
    run(str(BIN / "yoyo"), "rollback", "--all", "--batch", "--database", yoyo_url)
    assert await schema_facts(empty_url) == EMPTY


async def test_tether_cli_migrates_reports_status_and_rolls_back(empty_url):
    tether = str(BIN / "tether")
    out = run(tether, "--database", empty_url, "migrate")
    assert "applying planner_0001_schema" in out and f"{len(ALL)} migration(s) applied" in out
    assert "already up to date" in run(tether, "--database", empty_url, "migrate")
    assert "[x] planner_0001_schema" in run(tether, "--database", empty_url, "status")
    out = run(tether, "--database", empty_url, "rollback", "--all")
    assert "rolling back common_0001_extensions" in out
    assert "[ ] planner_0001_schema" in run(tether, "--database", empty_url, "status")
    assert await schema_facts(empty_url) == EMPTY


def applied(url: str) -> list[str]:
    return [m for m, done in migrations.status(url) if done]


async def schemas(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "select coalesce(array_agg(nspname::text order by nspname), '{}') from pg_namespace "
            "where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public')"
        )
    finally:
        await conn.close()


async def test_one_domain_alone_applies_common_and_rolls_back_to_it(empty_url):
    assert migrations.migrate(empty_url, domains=["planner"]) == PLANNER_ALONE
    assert await schemas(empty_url) == ["planner"]
    assert migrations.status(empty_url, domains=["planner"]) == [(m, True) for m in PLANNER_ALONE]
    assert migrations.rollback(empty_url, count=None, domain="planner") == PLANNER_OWN[::-1]
    assert applied(empty_url) == COMMON
    assert await schema_facts(empty_url) == {**EMPTY, "vector": 1}
    assert migrations.rollback(empty_url, count=None, domain="planner") == []


def test_an_unknown_domain_is_refused_before_anything_runs():
    with pytest.raises(ValueError, match="no domain 'nope'"):
        migrations.migrate("postgresql://nowhere/none", domains=["nope"])


async def test_plain_yoyo_apply_of_one_domain(empty_url):
    yoyo_url = migrations.yoyo_url(empty_url)
    yoyo = str(BIN / "yoyo")
    run(yoyo, "apply", "--batch", "--database", yoyo_url, "migrations/common", "migrations/planner")
    assert await schema_facts(empty_url) == BUILT
    assert applied(empty_url) == PLANNER_ALONE
    assert await schemas(empty_url) == ["planner"]


async def test_the_cli_selects_domains_as_a_service_deploys_one(empty_url):
    """`python -m tether` as a new user types it: planner alone on an empty database."""
    tether = [sys.executable, "-m", "tether", "--database", empty_url]
    out = run(*tether, "migrate", "planner")
    assert "(common, planner)" in out and f"{len(PLANNER_ALONE)} migration(s) applied" in out
    out = run(*tether, "status", "planner")
    assert "[x] common_0001_extensions" in out and "[x] planner_0001_schema" in out
    out = run(*tether, "rollback", "planner", "--all")
    assert "rolling back planner_0001_schema" in out and "common_0001" not in out
    status = run(*tether, "status", "planner")
    assert f"[x] {COMMON[-1]}\n  [ ] planner_0001_schema" in status
    refused = subprocess.run(
        [*tether, "migrate", "nope"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert refused.returncode == 2 and "no domain 'nope'" in refused.stderr
