"""chat_0004/0005 on a database filled at chat_0003: a stored plaintext password is
cleared with its sessions, a PHC hash is kept, refresh tokens of the old shape become
families under key 'default' and still rotate with the same key; rolled back, the live
tokens return to the old shape."""

import datetime as dt
import json
import os
import uuid

import asyncpg
from yoyo import get_backend, read_migrations

from tether import Database, admin, migrations
from tether.chat import RefreshTokenRepository, TokenKey
from tether.passwords import MIN_COST, hash_password


def _migrations():
    return read_migrations(*(str(migrations.migrations_dir() / d) for d in ("common", "chat")))


def _apply(url: str, *, up_to: str | None = None) -> None:
    found, backend = _migrations(), get_backend(migrations.yoyo_url(url))
    with backend.lock():
        pending = backend.to_apply(found)
        if up_to is not None:
            pending = pending.filter(lambda m: not m.id.startswith("chat") or m.id <= up_to)
        backend.apply_migrations(pending)


def _roll_back_to_0003(url: str) -> None:
    found, backend = _migrations(), get_backend(migrations.yoyo_url(url))
    with backend.lock():
        newer = backend.to_rollback(found).filter(
            lambda m: m.id.startswith("chat") and m.id > "chat_0003_tenancy_indexes"
        )
        backend.rollback_migrations(newer)


async def test_old_rows_migrate_plaintext_cleared_tokens_kept(tether_server_url):
    key = TokenKey(b"kV3x9-Lq2Zr7Tn0Pw8Ys4Hd6Fb1Mc5Ja-legacy")
    legacy_token, phc = (
        "legacy-raw-token-0123456789abcdefghijklmnop",
        hash_password("x", cost=MIN_COST),
    )
    ada, ben = uuid.uuid4(), uuid.uuid4()
    name = f"tether_chat_secrets_{os.getpid()}"
    async with admin.scratch_database(tether_server_url, name) as url:
        _apply(url, up_to="chat_0003_tenancy_indexes")
        conn = await asyncpg.connect(url)
        try:
            entry = (
                '[{"hash": "%s", "issued_at": "2026-01-01T00:00:00+00:00",'
                ' "expires_at": "2099-01-01T00:00:00+00:00"}]'
            )
            await conn.execute(
                "insert into chat.users (id, email, hashed_password, refresh_tokens) values"
                " ($1, 'ada@example.com', 'correct-horse-battery-staple', $3::text::jsonb),"
                " ($2, 'ben@example.com', $4, $5::text::jsonb)",
                ada,
                ben,
                entry % ("a" * 64),
                phc,
                entry % key.hash(legacy_token),
            )
            _apply(url)
            rows = {
                r["id"]: r
                for r in await conn.fetch(
                    "select id, hashed_password, refresh_tokens from chat.users"
                )
            }
            # The plaintext went, with Ada's sessions; Ben's hash and token stayed.
            assert (rows[ada]["hashed_password"], rows[ada]["refresh_tokens"]) == (None, "[]")
            assert rows[ben]["hashed_password"] == phc
            async with Database(url) as db:
                tokens = RefreshTokenRepository(db, key)
                assert [
                    (a.issued_at.year, a.expires_at.year) for a in await tokens.active(ben)
                ] == [(2026, 2099)]
                # The family's lifetime counts from its first issue (2026-01-01): make it
                # long enough that the legacy token is still inside it.
                lasting = RefreshTokenRepository(db, key, lifetime=dt.timedelta(days=365 * 200))
                assert await lasting.rotate(legacy_token) is not None
            _roll_back_to_0003(url)
            [old_shape] = json.loads(
                await conn.fetchval("select refresh_tokens from chat.users where id = $1", ben)
            )
            assert set(old_shape) == {"hash", "issued_at", "expires_at"}
        finally:
            await conn.close()
