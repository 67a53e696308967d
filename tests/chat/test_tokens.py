"""Refresh tokens: only a keyed hash reaches the database; issue, verify-and-rotate,
revoke one, revoke all, each one statement; an expired or revoked token is not found;
a rotated token presented again revokes its family (TokenReuse), but for one retry
within the grace window; no family outlives its lifetime; keys rotate without ending
sessions; the database refuses a refresh_tokens value that is not a list of hashed
entries. Family tests are in test_token_families.py."""

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid

import asyncpg
import pytest

from tether import InvalidValue, NotFound
from tether.chat import DEFAULT_TOKEN_TTL, RefreshTokenRepository, TokenKey
from tether.chat.tokens import KEY_VARIABLE, TokenKeys, default_keys


async def stored_tokens(db, user_id) -> list[dict]:
    return await db.pool.fetchval("select refresh_tokens from chat.users where id = $1", user_id)


async def test_only_the_keyed_hash_of_a_token_is_stored(tether_db, people, key, caplog):
    caplog.set_level(logging.DEBUG)
    ada, _ = people
    issued = await RefreshTokenRepository(tether_db, key).issue(ada.id)
    assert issued.user_id == ada.id and len(issued.token) == 43
    assert issued.expires_at - issued.issued_at == DEFAULT_TOKEN_TTL
    [entry] = await stored_tokens(tether_db, ada.id)
    assert set(entry) == {
        "hash",
        "key_id",
        "family",
        "family_issued_at",
        "issued_at",
        "expires_at",
        "spent_at",
        "replaced_by",
        "retried",
    }
    assert (entry["key_id"], entry["spent_at"], entry["retried"]) == ("default", None, False)
    assert entry["hash"] == hmac.new(key.secret, issued.token.encode(), hashlib.sha256).hexdigest()
    assert dt.datetime.fromisoformat(entry["expires_at"]) == issued.expires_at
    row = await tether_db.pool.fetchval("select u::text from chat.users u where id = $1", ada.id)
    assert issued.token not in row
    assert issued.token not in repr(issued) and issued.token not in caplog.text


async def test_a_token_hashed_with_another_key_is_not_found(tether_db, people, key):
    ada, _ = people
    issued = await RefreshTokenRepository(tether_db, key).issue(ada.id)
    stranger = RefreshTokenRepository(tether_db, TokenKey.generate())
    assert await stranger.rotate(issued.token) is None
    assert not await stranger.revoke(issued.token)
    assert await RefreshTokenRepository(tether_db, key).rotate(issued.token) is not None


async def test_rotation_replaces_the_token_and_refuses_the_old_one(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key)
    first = await tokens.issue(ada.id)
    second = await tokens.rotate(first.token)
    assert second is not None and second.user_id == ada.id and second.token != first.token
    third = await tokens.rotate(second.token)
    assert third is not None
    entries = await stored_tokens(tether_db, ada.id)
    # The rotated ones stay, spent, each naming its successor, for reuse detection.
    assert [(e["hash"], e["replaced_by"], e["spent_at"] is None) for e in entries] == [
        (key.hash(first.token), key.hash(second.token), False),
        (key.hash(second.token), key.hash(third.token), False),
        (key.hash(third.token), None, True),
    ]
    assert len({e["family"] for e in entries}) == 1


async def test_an_expired_token_is_not_found(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key)
    short = await tokens.issue(ada.id, ttl=dt.timedelta(milliseconds=1))
    await asyncio.sleep(0.01)
    assert await tokens.rotate(short.token) is None
    assert await tokens.active(ada.id) == []
    # The next write drops the expired entry.
    await tokens.issue(ada.id)
    assert len(await stored_tokens(tether_db, ada.id)) == 1


async def test_revoke_one_and_revoke_all(tether_db, people, key):
    ada, ben = people
    tokens = RefreshTokenRepository(tether_db, key)
    phone, laptop = await tokens.issue(ada.id), await tokens.issue(ada.id)
    bens = await tokens.issue(ben.id)
    assert await tokens.revoke(phone.token)
    assert not await tokens.revoke(phone.token)
    assert await tokens.rotate(phone.token) is None
    assert len(await tokens.active(ada.id)) == 1
    assert await tokens.revoke_all(ada.id)
    assert await tokens.rotate(laptop.token) is None
    assert await tokens.active(ada.id) == []
    assert not await tokens.revoke_all(uuid.uuid4())
    assert await tokens.rotate(bens.token) is not None  # Ben's sessions are his own


async def test_active_tokens_show_times_never_hashes(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key)
    first = await tokens.issue(ada.id, ttl=dt.timedelta(days=1))
    second = await tokens.issue(ada.id, ttl=dt.timedelta(days=2))
    active = await tokens.active(ada.id)
    assert [(a.issued_at, a.expires_at) for a in active] == [
        (first.issued_at, first.expires_at),
        (second.issued_at, second.expires_at),
    ]


async def test_a_user_holds_at_most_twenty_tokens_the_oldest_go_first(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key)
    issued = [await tokens.issue(ada.id) for _ in range(22)]
    entries = await stored_tokens(tether_db, ada.id)
    assert [e["hash"] for e in entries] == [key.hash(t.token) for t in issued[2:]]
    assert await tokens.rotate(issued[0].token) is None
    # Spent entries do not count: 20 live after a rotation, 21 entries stored.
    assert await tokens.rotate(issued[2].token) is not None
    entries = await stored_tokens(tether_db, ada.id)
    assert (len(entries), sum(e["spent_at"] is None for e in entries)) == (21, 20)


async def test_a_token_for_a_missing_user_is_not_found(tether_db, key):
    with pytest.raises(NotFound, match=r"chat\.users"):
        await RefreshTokenRepository(tether_db, key).issue(uuid.uuid4())


@pytest.mark.parametrize("ttl", [dt.timedelta(0), dt.timedelta(seconds=-1)])
async def test_a_token_must_expire_after_it_is_issued(tether_db, people, key, ttl):
    ada, _ = people
    with pytest.raises(InvalidValue) as refused:
        await RefreshTokenRepository(tether_db, key).issue(ada.id, ttl=ttl)
    assert refused.value.table == "chat.users" and "expire after" in str(refused.value)
    assert await stored_tokens(tether_db, ada.id) == []


@pytest.mark.parametrize("token", [None, 42, b"bytes", ["a"]])
async def test_a_token_that_is_not_text_is_an_invalid_value(tether_db, key, token):
    tokens = RefreshTokenRepository(tether_db, key)
    for call in (tokens.rotate, tokens.revoke):
        with pytest.raises(InvalidValue, match=r"chat\.users: a refresh token is text"):
            await call(token)


def entry(**changes) -> dict:
    """A refresh_tokens entry as tether writes it, with `changes`."""
    return {
        "hash": "a" * 64,
        "key_id": "k1",
        "family": str(uuid.uuid4()),
        "family_issued_at": "2026-01-01T00:00:00+00:00",
        "issued_at": "2026-01-01T10:00:00.123456+05:30",
        "expires_at": "2099-01-01T00:00:00+00:00",
        "spent_at": None,
        "replaced_by": None,
        "retried": False,
        **changes,
    }


@pytest.mark.parametrize(
    "value",
    [
        {},
        "[1]",
        [{"hash": "raw-token-0123456789abcdefghijklmnopqrstuvwx"}],
        # chat_0001's shape, without key id and family.
        [{k: entry()[k] for k in ("hash", "issued_at", "expires_at")}],
        [entry(token="raw")],  # noqa: S106 (an extra key holding a made-up raw token)
        [entry(hash="A" * 64)],
        [entry(hash="raw-token-0123456789abcdefghijklmnopqrstuvwx")],
        [entry(replaced_by="raw-token")],
        [entry(key_id="a key id with spaces")],
        [entry(key_id="")],
        [entry(issued_at="infinity", family_issued_at="-infinity")],
        [entry(expires_at="2099-01-01T00:00:00")],  # no offset
        [entry(family=str(uuid.uuid4()).upper())],
        [entry(family="not-a-uuid")],
        [entry(spent_at="yesterday")],
        [entry(retried="no")],
        [entry(expires_at="2025-01-01T00:00:00+00:00")],
        [entry(family_issued_at="2026-06-01T00:00:00+00:00")],
    ],
)
async def test_the_database_refuses_refresh_tokens_it_would_not_write(tether_db, people, value):
    ada, _ = people
    update = "update chat.users set refresh_tokens = $1::text::jsonb where id = $2"
    await tether_db.pool.execute(update, json.dumps([entry()]), ada.id)  # the shape it takes
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await tether_db.pool.execute(
            update, value if isinstance(value, str) else json.dumps(value), ada.id
        )
    assert refused.value.constraint_name == "users_refresh_tokens_check"


async def test_twenty_live_and_forty_spent_entries_at_most(tether_db, people):
    ada, _ = people
    update = "update chat.users set refresh_tokens = $1::text::jsonb where id = $2"
    spent = entry(spent_at="2026-01-02T00:00:00+00:00", replaced_by="b" * 64)
    await tether_db.pool.execute(update, json.dumps([entry()] * 20 + [spent] * 40), ada.id)
    for too_many in ([entry()] * 21, [entry()] * 20 + [spent] * 41):
        with pytest.raises(asyncpg.CheckViolationError):
            await tether_db.pool.execute(update, json.dumps(too_many), ada.id)


def test_the_key_is_never_shown_and_comes_from_the_environment(monkeypatch):
    secret = "kV3x9-Lq2Zr7Tn0Pw8Ys4Hd6Fb1Mc5Ja"  # noqa: S105 (a made-up key: 32 mixed bytes)
    monkeypatch.setenv(KEY_VARIABLE, secret)
    keys = TokenKeys.from_environment()
    assert keys.signing == TokenKey(secret.encode(), "default")
    assert secret not in repr(keys)
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(ValueError, match=KEY_VARIABLE):
        TokenKeys.from_environment()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        (b"short", "at least 32 bytes"),
        (b"k" * 40, "random, not a repeated or patterned"),
        (b"abcd" * 8, "random, not a repeated or patterned"),
        (b"password" * 5, "random, not a repeated or patterned"),
    ],
)
def test_a_short_or_low_entropy_key_is_refused_saying_how_to_make_one(secret, why):
    with pytest.raises(ValueError, match=why) as refused:
        TokenKey(secret)
    assert "openssl rand -base64 48" in str(refused.value)
    assert secret.decode() not in str(refused.value)


def test_keys_that_pass():
    """What a service is told to use passes: base64 or hex of random bytes."""
    import base64
    import secrets

    for _ in range(200):
        TokenKey(base64.b64encode(secrets.token_bytes(48)))
        TokenKey(secrets.token_hex(32).encode())
        TokenKey(secrets.token_bytes(32))


def test_several_keys_the_first_signs(monkeypatch):
    new, old = "kV3x9-Lq2Zr7Tn0Pw8Ys4Hd6Fb1Mc5Ja", "Qm8Rt2-Wx5Zb9Nc1Vd7Lf3Hg6Jk0Ps4Y"
    monkeypatch.setenv(KEY_VARIABLE, f"k2:{new}, k1:{old}")
    keys = TokenKeys.from_environment()
    assert [k.key_id for k in keys.keys] == ["k2", "k1"] and keys.signing.key_id == "k2"
    for bad, why in [
        (f"k2:{new},k2:{old}", "its own id"),
        (f"k2:{new},{old}", "entry 2 .* is not 'id:secret'"),
        (f"k2:{new},k1:{'x' * 40}", "entry 2 .*random"),
        (f"k 2:{new}", "entry 1 .*key id"),
    ]:
        monkeypatch.setenv(KEY_VARIABLE, bad)
        with pytest.raises(ValueError, match=why) as refused:
            TokenKeys.from_environment()
        assert new not in str(refused.value) and old not in str(refused.value)


@pytest.fixture
def fresh_default_keys():
    """default_keys() forgotten before and after the test (it is kept per process)."""
    default_keys.cache_clear()
    yield
    default_keys.cache_clear()


FIRST = "first-kV3x9-Lq2Zr7Tn0Pw8Ys4Hd6Fb1Mc5Ja"
SECOND = "second-Qm8Rt2-Wx5Zb9Nc1Vd7Lf3Hg6Jk0Ps4Y"


async def test_without_a_key_the_environments_is_read_once(
    tether_db, people, monkeypatch, fresh_default_keys
):
    ada, _ = people
    monkeypatch.setenv(KEY_VARIABLE, FIRST)
    issued = await RefreshTokenRepository(tether_db).issue(ada.id)
    [stored] = await stored_tokens(tether_db, ada.id)
    assert stored["hash"] == TokenKey(FIRST.encode()).hash(issued.token)
    # Changed in the environment later: the process keeps the key it read.
    monkeypatch.setenv(KEY_VARIABLE, SECOND)
    assert await RefreshTokenRepository(tether_db).rotate(issued.token) is not None
    default_keys.cache_clear()  # as a restart would
    assert default_keys().signing == TokenKey(SECOND.encode())


async def test_a_new_key_ends_no_session_and_the_old_one_retires(tether_db, people, monkeypatch):
    """Key rotation: tokens hashed under k1 still rotate once k2 signs, their successors
    are hashed under k2; tokens of a key dropped from the ring are not found."""
    ada, _ = people
    k1, k2 = TokenKey(FIRST.encode(), "k1"), TokenKey(SECOND.encode(), "k2")
    before = RefreshTokenRepository(tether_db, TokenKeys([k1]))
    phone, laptop = await before.issue(ada.id), await before.issue(ada.id)
    after = RefreshTokenRepository(tether_db, TokenKeys([k2, k1]))
    rotated = await after.rotate(phone.token)
    assert rotated is not None
    entries = {e["hash"]: e for e in await stored_tokens(tether_db, ada.id)}
    assert entries[k2.hash(rotated.token)]["key_id"] == "k2"
    assert entries[k1.hash(phone.token)]["key_id"] == "k1"
    # k1 retired: what it hashed (the laptop's unrotated token) is unknown.
    retired = RefreshTokenRepository(tether_db, TokenKeys([k2]))
    assert await retired.rotate(laptop.token) is None
    assert await retired.rotate(rotated.token) is not None


def test_no_key_at_all_fails_at_construction(tether_db, monkeypatch, fresh_default_keys):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    with pytest.raises(ValueError, match=f"set \\${KEY_VARIABLE}"):
        RefreshTokenRepository(tether_db)


@pytest.mark.parametrize(
    "wrong", ["k" * 40, b"k" * 40, TokenKey.generate().secret], ids=["str", "bytes", "raw-secret"]
)
def test_a_key_of_the_wrong_type_fails_at_construction(tether_db, wrong):
    with pytest.raises(
        TypeError, match=r"key is a tether\.chat\.TokenKey or TokenKeys, not"
    ) as refused:
        RefreshTokenRepository(tether_db, key=wrong)
    assert str(wrong) not in str(refused.value)
