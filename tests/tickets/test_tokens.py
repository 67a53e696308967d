"""Jira tokens: encrypted before they leave Python (AES-GCM, key ring from the environment
only), read back decrypted, rotated to a new key in one call; a missing, malformed or
wrong key, or an altered ciphertext, is a clear tether error, never garbage; no token or
key in any repr, error, log or column."""

import asyncio
import datetime as dt
import logging
import os
import uuid
from contextlib import asynccontextmanager

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether import Conflict, InvalidValue, NotFound
from tether.tickets import (
    KEYS_VARIABLE,
    JiraTokenRepository,
    KeyRing,
    TokenKeyError,
    UnreadableToken,
    default_keys,
    new_key,
)
from tether.tickets.records import TokenRotation
from tether.tickets.tokens import Binding

EXPIRES = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
ROWS = "select * from tickets.jira_auth_tokens order by jira_user_id"
NEXT_VERSION = "nextval('tickets.jira_auth_token_versions')"
# The role services run as (tenancy): it may write tickets.jira_auth_tokens.
WRITER = "tether_service"


@pytest.fixture
async def sql(tether_db):
    """A connection of the test's own (the migrating superuser) to the test's database."""
    async with tether_db.pool.acquire() as conn:
        yield conn


@asynccontextmanager
async def owner_without_guard(sql):
    """The table's owner with triggers off (session_replication_role = replica): the
    one hand that can write a row without a growing version, to make rows as they were
    before versions or alter one in place."""
    await sql.execute("set session_replication_role = replica")
    try:
        yield
    finally:
        await sql.execute("reset session_replication_role")


async def as_writer(sql, statement: str, *args) -> str:
    """Run `statement` as a role that may write the table (and nothing more)."""
    async with sql.transaction():
        await sql.execute(f"set local role {WRITER}")
        return await sql.execute(statement, *args)


def raw(kind: str = "access") -> str:
    return f"{kind}-{uuid.uuid4().hex}"


async def tables_holding(db, text: str) -> list[str]:
    """The tickets tables with a row whose text form contains `text`, in any column."""
    statement = await db.pool.fetchval(
        "select string_agg(format('select %L as t from %I.%I as r where strpos(r::text, $1) > 0',"
        " schemaname || '.' || tablename, schemaname, tablename), ' union all ') "
        "from pg_tables where schemaname = 'tickets'"
    )
    return sorted({row["t"] for row in await db.pool.fetch(statement, text)})


async def test_tokens_are_stored_encrypted_and_read_back(tether_db, keys):
    tokens = JiraTokenRepository(tether_db)
    access, refresh = raw(), raw("refresh")
    stored = await tokens.upsert("jira-1", access, refresh, EXPIRES, ["read:jira-work"])
    assert (stored.access_token, stored.refresh_token, stored.key_id) == (access, refresh, "k1")
    assert stored.scopes == ("read:jira-work",)
    for secret in (access, refresh):
        assert secret not in repr(stored)
        assert await tables_holding(tether_db, secret) == []
    assert await tokens.get("jira-1") == stored
    held = await tether_db.pool.fetchrow(
        "select access_token, refresh_token, key_id from tickets.jira_auth_tokens"
    )
    assert held["key_id"] == "k1"
    assert access.encode() not in held["access_token"]
    assert len(held["access_token"]) == 12 + len(access) + 16  # nonce, ciphertext, tag


async def test_an_upsert_replaces_and_a_delete_removes(tether_db, keys):
    tokens = JiraTokenRepository(tether_db)
    first = await tokens.upsert("jira-1", raw(), raw("refresh"), EXPIRES)
    again = await tokens.upsert("jira-1", "new-access-token", None, EXPIRES, ())
    assert (again.access_token, again.refresh_token, again.scopes) == ("new-access-token", None, ())
    assert again.updated_at >= first.updated_at
    assert await tether_db.pool.fetchval("select count(*) from tickets.jira_auth_tokens") == 1
    assert await tokens.delete("jira-1")
    assert not await tokens.delete("jira-1")
    with pytest.raises(NotFound, match=r"tickets\.jira_auth_tokens"):
        await tokens.get("jira-1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, "a", None), "jira_user_id must be str, not int"),
        (("u", None, None), "access_token must be str, not NoneType"),
        (("u", "", None), "access_token must not be empty"),
        (("u", b"bytes", None), "access_token must be str, not bytes"),
        (("u", "a", 5), "refresh_token must be str, not int"),
        (("u", "lone \ud800 surrogate", None), "access_token is not valid text"),
    ],
)
async def test_wrong_tokens_are_refused_before_anything_is_sent(tether_db, keys, args, message):
    with pytest.raises(InvalidValue, match=message):
        await JiraTokenRepository(tether_db).upsert(*args, EXPIRES)
    with pytest.raises(InvalidValue, match="scopes must be a list of str"):
        await JiraTokenRepository(tether_db).upsert("u", "a", None, EXPIRES, "read")
    assert await tether_db.pool.fetchval("select count(*) from tickets.jira_auth_tokens") == 0


async def test_database_rules_on_the_token_row(tether_db, keys):
    tokens = JiraTokenRepository(tether_db)
    for user, scopes, constraint in (
        (" ", (), "jira_auth_tokens_jira_user_id_check"),
        ("x" * 256, (), "jira_auth_tokens_jira_user_id_check"),
    ):
        with pytest.raises(InvalidValue) as refused:
            await tokens.upsert(user, "a", None, EXPIRES, scopes)
        assert (refused.value.table, refused.value.constraint) == (
            "tickets.jira_auth_tokens",
            constraint,
        )
    with pytest.raises(InvalidValue) as refused:
        await tokens.upsert("u", "a" * 40_000, None, EXPIRES)
    assert refused.value.constraint == "jira_auth_tokens_access_token_check"


@pytest.mark.parametrize(
    "ring",
    [
        "",
        "   ",
        "no-colon-here",
        "k1:not base64 at all!",
        "k1:c2hvcnQ=",  # 5 bytes
        f"bad id!:{new_key()}",
        f"k1:{new_key()},k1:{new_key()}",
    ],
    # Named, not shown: fresh keys would make each pytest-xdist worker's ids differ.
    ids=["empty", "blank", "no colon", "not base64", "short key", "bad id", "id twice"],
)
async def test_a_missing_or_malformed_key_ring_is_a_clear_error(
    tether_db, monkeypatch, caplog, ring
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(KEYS_VARIABLE, ring)
    access = raw()
    with pytest.raises(TokenKeyError) as refused:
        await JiraTokenRepository(tether_db).upsert("u", access, None, EXPIRES)
    said = f"{refused.value} {refused.value!r} {caplog.text}"
    assert KEYS_VARIABLE in said or "key" in said
    assert access not in said
    for part in ring.replace(",", ":").split(":")[1:]:
        if len(part) > 8:
            assert part not in said  # no key material in the message
    assert await tether_db.pool.fetchval("select count(*) from tickets.jira_auth_tokens") == 0


async def test_no_ring_at_all_names_the_variable(tether_db, monkeypatch):
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)
    with pytest.raises(TokenKeyError, match=f"set \\${KEYS_VARIABLE}"):
        await JiraTokenRepository(tether_db).get("u")


async def test_a_wrong_key_is_an_error_never_garbage(tether_db, keys, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    access = raw()
    await JiraTokenRepository(tether_db).upsert("jira-1", access, None, EXPIRES)
    monkeypatch.setenv(KEYS_VARIABLE, f"k1:{new_key()}")  # same id, another key
    with pytest.raises(UnreadableToken) as refused:
        await JiraTokenRepository(tether_db, keys=KeyRing.from_environment()).get("jira-1")
    assert "does not decrypt with key 'k1'" in str(refused.value)
    assert access not in f"{refused.value!r} {caplog.text}"
    monkeypatch.setenv(KEYS_VARIABLE, f"k9:{new_key()}")  # the stored key id is unknown
    with pytest.raises(TokenKeyError, match="encrypted under key 'k1', which"):
        await JiraTokenRepository(tether_db, keys=KeyRing.from_environment()).get("jira-1")


@pytest.mark.parametrize(
    "tamper",
    [
        # one bit of the ciphertext flipped
        "update tickets.jira_auth_tokens set access_token = "
        "set_byte(access_token, 20, get_byte(access_token, 20) # 1)",
        # another user's ciphertext copied in: bound to its own row, it does not open here
        "update tickets.jira_auth_tokens t set access_token = o.access_token "
        "from tickets.jira_auth_tokens o where t.jira_user_id = 'jira-1' "
        "and o.jira_user_id = 'jira-2'",
        # the refresh token's ciphertext in the access token's place
        "update tickets.jira_auth_tokens set access_token = refresh_token",
        "update tickets.jira_auth_tokens set access_token = '\\x0001'",
    ],
)
async def test_an_altered_ciphertext_does_not_decrypt(tether_db, sql, keys, tamper):
    tokens = JiraTokenRepository(tether_db)
    await tokens.upsert("jira-1", raw(), raw("refresh"), EXPIRES)
    await tokens.upsert("jira-2", raw(), raw("refresh"), EXPIRES)
    async with owner_without_guard(sql):  # the version guard would refuse it otherwise
        await sql.execute(tamper)
    with pytest.raises(UnreadableToken):
        await tokens.get("jira-1")


async def test_a_row_written_without_a_key_id_cannot_be_read(tether_db, sql, keys):
    """The SPEC's plain insert (no key id, no version) works for a new Jira user, and
    the row is refused on read; for a user who had a versioned row it is refused."""
    hand = (
        "insert into tickets.jira_auth_tokens (jira_user_id, access_token, expires_at) "
        "values ($1, 'written', now())"
    )
    await as_writer(sql, hand, "hand")
    with pytest.raises(TokenKeyError, match="has no key id"):
        await JiraTokenRepository(tether_db).get("hand")
    tokens = JiraTokenRepository(tether_db)
    await tokens.upsert("jira-1", raw(), None, EXPIRES)
    assert await tokens.delete("jira-1")
    with pytest.raises(asyncpg.CheckViolationError, match="version must grow"):
        await as_writer(sql, hand, "jira-1")
    assert await sql.fetchval("select count(*) from tickets.jira_auth_tokens") == 1


async def test_rotation_reencrypts_every_token_under_the_new_key(tether_db, keys, monkeypatch):
    tokens = JiraTokenRepository(tether_db)
    written = {f"jira-{n}": (raw(), raw("refresh") if n % 2 else None) for n in range(5)}
    for user, (access, refresh) in written.items():
        await tokens.upsert(user, access, refresh, EXPIRES)
    before = {
        row["jira_user_id"]: row["access_token"]
        for row in await tether_db.pool.fetch("select * from tickets.jira_auth_tokens")
    }
    monkeypatch.setenv(KEYS_VARIABLE, f"k2:{new_key()},{keys}")
    tokens = JiraTokenRepository(tether_db, keys=KeyRing.from_environment())
    assert await tokens.rotate(batch=2) == TokenRotation(5, ())
    assert await tokens.rotate() == TokenRotation(0, ())
    rows = await tether_db.pool.fetch("select * from tickets.jira_auth_tokens")
    assert {row["key_id"] for row in rows} == {"k2"}
    assert all(row["access_token"] != before[row["jira_user_id"]] for row in rows)
    for user, (access, refresh) in written.items():
        token = await tokens.get(user)
        assert (token.access_token, token.refresh_token, token.key_id) == (access, refresh, "k2")


async def test_rotation_then_the_old_key_can_be_dropped(tether_db, keys, monkeypatch):
    tokens = JiraTokenRepository(tether_db)
    access = raw()
    await tokens.upsert("jira-1", access, None, EXPIRES)
    new = f"k2:{new_key()}"
    monkeypatch.setenv(KEYS_VARIABLE, f"{new},{keys}")
    rotation = await JiraTokenRepository(tether_db, keys=KeyRing.from_environment()).rotate()
    assert rotation == TokenRotation(1, ())
    monkeypatch.setenv(KEYS_VARIABLE, new)
    token = await JiraTokenRepository(tether_db, keys=KeyRing.from_environment()).get("jira-1")
    assert (token.access_token, token.key_id) == (access, "k2")
    monkeypatch.setenv(KEYS_VARIABLE, keys)  # back to the old key alone: k2 is unknown
    with pytest.raises(TokenKeyError, match="under key 'k2'"):
        await JiraTokenRepository(tether_db, keys=KeyRing.from_environment()).get("jira-1")


async def test_rotation_skips_and_reports_what_does_not_decrypt(
    tether_db, sql, keys, monkeypatch, caplog
):
    """One row altered (by the table's owner, the version guard off), one without a
    key id (the SPEC's plain insert): the other rows rotate all the same, in batches,
    and the two are reported by Jira user id, left as they were. It used to stop before writing
    anything, so an old key could never be retired."""
    caplog.set_level(logging.DEBUG)
    tokens = JiraTokenRepository(tether_db)
    written = {f"jira-{n}": raw() for n in range(6)}
    for user, access in written.items():
        await tokens.upsert(user, access, raw("refresh"), EXPIRES)
    async with owner_without_guard(sql):
        await sql.execute(
            "update tickets.jira_auth_tokens set access_token = "
            "set_byte(access_token, 20, get_byte(access_token, 20) # 1) "
            "where jira_user_id = 'jira-3'"
        )
    await sql.execute(
        "insert into tickets.jira_auth_tokens (jira_user_id, access_token, expires_at) "
        "values ('by-hand', 'written', now())"
    )
    before = {row["jira_user_id"]: row for row in await sql.fetch(ROWS)}
    monkeypatch.setenv(KEYS_VARIABLE, f"k2:{new_key()},{keys}")
    rotation = await JiraTokenRepository(tether_db, keys=KeyRing.from_environment()).rotate(batch=2)
    assert rotation.rotated == 5
    assert [s.jira_user_id for s in rotation.skipped] == ["by-hand", "jira-3"]
    assert "has no key id" in rotation.skipped[0].why
    assert "does not decrypt with key 'k1'" in rotation.skipped[1].why
    after = {row["jira_user_id"]: row for row in await sql.fetch(ROWS)}
    assert {user for user, row in after.items() if row["key_id"] == "k2"} == set(written) - {
        "jira-3"
    }
    for user in ("jira-3", "by-hand"):  # left exactly as they were
        assert after[user] == before[user]
    assert "skipped 2 token(s)" in caplog.text and "jira-3" in caplog.text
    assert all(access not in caplog.text for access in written.values())
    # The old key can go once the reported rows are dealt with.
    await tokens.delete("jira-3")
    await tether_db.pool.execute("delete from tickets.jira_auth_tokens where key_id is null")
    monkeypatch.setenv(KEYS_VARIABLE, os.environ[KEYS_VARIABLE].split(",")[0])
    ring = KeyRing.from_environment()
    for user in set(written) - {"jira-3"}:
        assert (await JiraTokenRepository(tether_db, keys=ring).get(user)).access_token == (
            written[user]
        )


async def test_rotation_leaves_a_token_replaced_in_between(tether_db, keys, monkeypatch):
    """The rewrite is a compare-and-set on the row version read: a token upserted after
    the read (already under the current key) is not overwritten with the old one."""
    tokens = JiraTokenRepository(tether_db)
    await tokens.upsert("jira-1", "old-access-token", None, EXPIRES)
    monkeypatch.setenv(KEYS_VARIABLE, f"k2:{new_key()},{keys}")
    ring = KeyRing.from_environment()
    tokens = JiraTokenRepository(tether_db, keys=ring)
    [stale] = await tokens._many(tokens.TOKENS_TO_ROTATE, key_id="k2", after="", batch=10)
    fresh = await tokens.upsert("jira-1", "fresh-access-token", None, EXPIRES)
    [version] = await tokens._versions(1)
    rewritten = await tokens._execrows(
        tokens.REENCRYPT_TOKENS,
        key_id="k2",
        jira_user_ids=["jira-1"],
        old_versions=[stale.version],
        access_tokens=[
            ring.encrypt(Binding("jira-1", version, EXPIRES, ()), "access_token", "old-access")
        ],
        refresh_tokens=[None],
        versions=[version],
    )
    assert rewritten == 0
    assert await tokens.get("jira-1") == fresh


async def test_without_keys_the_environments_ring_is_read_once(tether_db, keys, monkeypatch):
    tokens = JiraTokenRepository(tether_db)
    stored = await tokens.upsert("jira-1", "access-token", None, EXPIRES)
    # Not re-read on every call: a ring changed in the environment is not seen...
    monkeypatch.setenv(KEYS_VARIABLE, f"k2:{new_key()}")
    assert (await tokens.get("jira-1")).key_id == stored.key_id == "k1"
    assert (await JiraTokenRepository(tether_db).get("jira-1")) == stored
    # ...until the process starts again (the cache forgotten).
    default_keys.cache_clear()
    with pytest.raises(TokenKeyError, match="encrypted under key 'k1'"):
        await JiraTokenRepository(tether_db).get("jira-1")


@pytest.mark.parametrize("wrong", ["k1:c2VjcmV0", b"x" * 32, {"k1": b"x" * 32}])
def test_keys_of_the_wrong_type_fail_at_construction(tether_db, wrong):
    with pytest.raises(TypeError, match=r"keys is a tether\.tickets\.KeyRing, not") as refused:
        JiraTokenRepository(tether_db, keys=wrong)
    assert "c2VjcmV0" not in str(refused.value)


def test_the_key_ring_shows_ids_never_keys(keys):
    ring = KeyRing.from_environment()
    secret = keys.partition(":")[2]
    assert ring.ids == ("k1",) and ring.current == "k1"
    assert secret not in repr(ring) and "k1" in repr(ring)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(access=st.text(min_size=1), refresh=st.none() | st.text(min_size=1))
async def test_any_text_comes_back_exactly(tether_db, keys, access, refresh):
    """NUL bytes, emoji, right-to-left marks, megabytes: the database never sees the text,
    only its ciphertext; everything valid as UTF-8 reads back as given."""
    if any("\ud800" <= c <= "\udfff" for c in access + (refresh or "")):
        with pytest.raises(InvalidValue, match="not valid text"):
            await JiraTokenRepository(tether_db).upsert("u", access, refresh, EXPIRES)
        return
    stored = await JiraTokenRepository(tether_db).upsert("u", access, refresh, EXPIRES)
    assert (stored.access_token, stored.refresh_token) == (access, refresh)
    read = await JiraTokenRepository(tether_db).get("u")
    assert (read.access_token, read.refresh_token) == (access, refresh)


@pytest.mark.parametrize(
    "change",
    [
        "expires_at = expires_at + interval '1 year'",
        "scopes = array_append(scopes, 'admin:jira')",
        "expires_at = 'infinity'",
    ],
)
async def test_a_table_writer_who_extends_expires_at_or_adds_a_scope_gets_no_token(
    tether_db, sql, keys, change
):
    tokens = JiraTokenRepository(tether_db)
    stored = await tokens.upsert("jira-1", raw(), raw("refresh"), EXPIRES, ["read:jira-work"])
    update = f"update tickets.jira_auth_tokens set {change}"
    # The row's version must grow with every write: the database refuses it as is...
    with pytest.raises(asyncpg.CheckViolationError, match="version must grow"):
        await as_writer(sql, update)
    assert await tokens.get("jira-1") == stored
    # ...and with a grown version, the tokens no longer decrypt.
    assert await as_writer(sql, f"{update}, version = {NEXT_VERSION}") == "UPDATE 1"
    with pytest.raises(UnreadableToken, match="expires_at, scopes or version"):
        await tokens.get("jira-1")


async def test_a_table_writer_who_rolls_the_tokens_back_gets_no_token(tether_db, sql, keys):
    tokens = JiraTokenRepository(tether_db)
    await tokens.upsert("jira-1", "old-access", "old-refresh", EXPIRES)
    old = await sql.fetchrow(ROWS)
    await tokens.upsert("jira-1", "new-access", "new-refresh", EXPIRES)
    back = (
        "update tickets.jira_auth_tokens set access_token = $1, refresh_token = $2, "
        "expires_at = $3, scopes = $4, key_id = $5, version = $6"
    )
    values = [old[c] for c in ("access_token", "refresh_token", "expires_at", "scopes", "key_id")]
    # The whole older row, version included: refused, the version would not grow.
    with pytest.raises(asyncpg.CheckViolationError):
        await as_writer(sql, back, *values, old["version"])
    # Deleted and written again as it was: refused too (the high-water mark stays).
    await as_writer(sql, "delete from tickets.jira_auth_tokens")
    with pytest.raises(asyncpg.CheckViolationError):
        await as_writer(
            sql,
            "insert into tickets.jira_auth_tokens (jira_user_id, access_token, refresh_token, "
            "expires_at, scopes, key_id, version) values ($1, $2, $3, $4, $5, $6, $7)",
            "jira-1",
            *values,
            old["version"],
        )
    await tokens.upsert("jira-1", "new-access", "new-refresh", EXPIRES)
    # The older ciphertexts under a version that grows: they do not decrypt.
    assert await as_writer(sql, back, *values, await sql.fetchval(f"select {NEXT_VERSION}")) == (
        "UPDATE 1"
    )
    with pytest.raises(UnreadableToken):
        await tokens.get("jira-1")


async def test_the_database_refuses_a_version_that_does_not_grow(tether_db, sql, keys):
    """What the guard accepts as well as what it refuses, from the writer's role."""
    tokens = JiraTokenRepository(tether_db)
    stored = await tokens.upsert("jira-1", raw(), None, EXPIRES)
    version = await sql.fetchval("select version from tickets.jira_auth_tokens")
    touch = "update tickets.jira_auth_tokens set version = $1"
    # None, the same, an older one, one never drawn from the sequence:
    for refused in (None, version, version - 1, version + 10**6):
        with pytest.raises(asyncpg.CheckViolationError):
            await as_writer(sql, touch, refused)
    assert await sql.fetchval("select version from tickets.jira_auth_tokens") == version
    # A growing one drawn from the sequence passes (the tokens then no longer decrypt).
    grown = f"update tickets.jira_auth_tokens set version = {NEXT_VERSION}"
    assert await as_writer(sql, grown) == "UPDATE 1"
    version = await sql.fetchval("select version from tickets.jira_auth_tokens")
    # The high-water marks are the trigger's alone: the writer cannot lower them.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_writer(sql, "update tickets.jira_auth_token_high_water set version = 0")
    assert (
        await sql.fetchval(
            "select version from tickets.jira_auth_token_high_water where jira_user_id = 'jira-1'"
        )
        == version
    )
    again = raw()  # and tether's next write passes
    assert (await tokens.upsert("jira-1", again, None, EXPIRES)).access_token == again
    assert stored.access_token != again


async def test_racing_upserts_leave_the_newest_token_readable(tether_db, sql, keys):
    """Upserts of one user at once: each either lands or is a Conflict (a newer one was
    stored meanwhile); the row left decrypts, and holds the newest version that landed."""
    tokens = JiraTokenRepository(tether_db)
    results = await asyncio.gather(
        *(tokens.upsert("jira-1", f"access-{n}", None, EXPIRES) for n in range(12)),
        return_exceptions=True,
    )
    landed = [r for r in results if not isinstance(r, BaseException)]
    assert landed and all(isinstance(r, Conflict) for r in results if r not in landed)
    left = await tokens.get("jira-1")
    assert left.access_token in {token.access_token for token in landed}
    version = await sql.fetchval("select version from tickets.jira_auth_tokens")
    assert version == await sql.fetchval(
        "select version from tickets.jira_auth_token_high_water where jira_user_id = 'jira-1'"
    )


async def test_rows_from_before_versions_are_read_then_bound_by_rotate(tether_db, sql, keys):
    """A row written before tickets_0003 (version NULL, bound to its user and key id
    alone) still reads; rotate() rewrites it with a version even under the same key."""
    ring = KeyRing.from_environment()
    legacy = Binding("jira-old", None, EXPIRES, ())
    access = raw()
    async with owner_without_guard(sql):
        await sql.execute(
            "insert into tickets.jira_auth_tokens (jira_user_id, access_token, expires_at, "
            "key_id) values ('jira-old', $1, $2, 'k1')",
            ring.encrypt(legacy, "access_token", access),
            EXPIRES,
        )
    tokens = JiraTokenRepository(tether_db, keys=ring)
    assert (await tokens.get("jira-old")).access_token == access
    assert await tokens.rotate() == TokenRotation(1, ())
    assert await sql.fetchval("select version from tickets.jira_auth_tokens") is not None
    assert (await tokens.get("jira-old")).access_token == access
    assert await tokens.rotate() == TokenRotation(0, ())
