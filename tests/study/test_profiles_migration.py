"""study_0004_password_phc on a database that holds a plaintext password: the migration
refuses, naming how many profiles and what to do, and leaves the schema as it was; once
the value is a PHC hash it applies, and the database refuses plaintext from then on."""

import os

import asyncpg
import pytest
from yoyo import get_backend, read_migrations

from tether import admin, migrations
from tether.passwords import MIN_COST, hash_password


def _apply(url: str, *, up_to: str | None = None) -> None:
    found = read_migrations(*(str(migrations.migrations_dir() / d) for d in ("common", "study")))
    backend = get_backend(migrations.yoyo_url(url))
    with backend.lock():
        pending = backend.to_apply(found)
        if up_to is not None:
            pending = pending.filter(lambda m: not m.id.startswith("study") or m.id <= up_to)
        backend.apply_migrations(pending)


async def test_a_stored_plaintext_stops_the_migration_until_it_is_hashed(tether_server_url):
    name = f"tether_phc_{os.getpid()}"
    async with admin.scratch_database(tether_server_url, name) as url:
        _apply(url, up_to="study_0003_tenancy_indexes")
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "insert into study.profiles (email, password_hash) values"
                " ('a@example.com', 'correct-horse-battery-staple'), ('b@example.com', $1)",
                hash_password("b's password", cost=MIN_COST),
            )
            with pytest.raises(Exception, match=r"1 profile\(s\) of study\.profiles"):
                _apply(url)
            assert not await conn.fetchval(
                "select exists (select from pg_constraint"
                " where conname = 'profiles_password_hash_phc_check')"
            )
            await conn.execute(
                "update study.profiles set password_hash = $1 where email = 'a@example.com'",
                hash_password("reset me", cost=MIN_COST),
            )
            _apply(url)
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(
                    "update study.profiles set password_hash = 'correct-horse-battery-staple'"
                )
            assert await conn.fetchval("select count(*) from study.profiles") == 2
        finally:
            await conn.close()
