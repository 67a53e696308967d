"""What every domain's tests check the same way, written once: the rows in each of its
tables, its foreign keys as the catalog sees them, a database built by plain `yoyo
apply` of `common` and the domain alone (as a service deploying that domain does), and
its demo story's text."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tether import admin, migrations
from tether.stories import run

ROOT = Path(__file__).resolve().parent.parent
YOYO = Path(sys.executable).parent / "yoyo"

# One `(select count(*) ...) as <table>` per table of the schema, glued by the server,
# which quotes every name itself (%I).
COUNT_EVERY_TABLE = """
select 'select ' || string_agg(format('(select count(*) from %I.%I) as %I',
                                      schemaname, tablename, tablename),
                               ', ' order by tablename)
from pg_tables
where schemaname = $1
"""


async def counts(db, schema: str) -> dict[str, int]:
    """Rows in every table of `schema`, by table name, counted by SQL. A domain's tests
    bind their schema once: `counts = partial(domain_checks.counts, schema="chat")`."""
    statement = await db.pool.fetchval(COUNT_EVERY_TABLE, schema)
    assert statement is not None, f"no tables in schema {schema}"
    return dict(await db.pool.fetchrow(statement))


ON_DELETE = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

FOREIGN_KEYS = """
select c.conname, c.conrelid::regclass::text as child,
       c.confrelid::regclass::text as parent, c.confdeltype::text,
       array(select a.attname from unnest(c.conkey) with ordinality k (n, i)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
             order by k.i) as columns
from pg_constraint c
where c.contype = 'f' and c.connamespace = $1::regnamespace
"""


async def foreign_keys(db, schema: str) -> dict[str, tuple[str, tuple[str, ...], str, str]]:
    """Each foreign key of `schema`: (child table, its columns, parent table, ON DELETE)."""
    rows = await db.pool.fetch(FOREIGN_KEYS, schema)
    return {
        r["conname"]: (r["child"], tuple(r["columns"]), r["parent"], ON_DELETE[r["confdeltype"]])
        for r in rows
    }


@asynccontextmanager
async def yoyo_built(server_url: str, domain: str) -> AsyncIterator[str]:
    """The URL of a new database migrated by the yoyo command line alone, from the
    repository root, with `migrations/common` and `migrations/<domain>`."""
    async with admin.scratch_database(server_url, f"tether_yoyo_{os.getpid()}") as url:
        done = subprocess.run(
            [
                str(YOYO),
                "apply",
                "--batch",
                "--database",
                migrations.yoyo_url(url),
                "migrations/common",
                f"migrations/{domain}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield url


async def story(server_url: str, domain: str) -> str:
    """What `tether demo <domain>` tells, played in a database of its own (dropped after)."""
    lines: list[str] = []
    database = f"tether_demo_{os.getpid()}"
    try:
        await run(server_url, [domain], out=lines.append, database=database)
    finally:
        await admin.drop_database(server_url, f"{database}_{domain}")
    return "\n".join(lines)
