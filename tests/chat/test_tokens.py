"""Refresh tokens: only a keyed hash reaches the database; issue, verify-and-rotate,
revoke one, revoke all, each one statement; an expired, revoked or rotated token is not
found; of concurrent rotations of one token exactly one wins; the database refuses a
refresh_tokens value that is not a list of hashed entries."""

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
from tether.chat.tokens import KEY_VARIABLE, default_key


async def stored_tokens(db, user_id) -> list[dict]:
    return await db.pool.fetchval("select refresh_tokens from chat.users where id = $1", user_id)


async def test_only_the_keyed_hash_of_a_token_is_stored(tether_db, people, key, caplog):
    caplog.set_level(logging.DEBUG)
    ada, _ = people
    issued = await RefreshTokenRepository(tether_db, key).issue(ada.id)
    assert issued.user_id == ada.id and len(issued.token) == 43
    assert issued.expires_at - issued.issued_at == DEFAULT_TOKEN_TTL
    [entry] = await stored_tokens(tether_db, ada.id)
    assert set(entry) == {"hash", "issued_at", "expires_at"}
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
    # The stolen first token, reused after its owner rotated it, is refused ...
    assert await tokens.rotate(first.token) is None
    # ... and the owner's chain goes on.
    third = await tokens.rotate(second.token)
    assert third is not None
    entries = await stored_tokens(tether_db, ada.id)
    assert [e["hash"] for e in entries] == [key.hash(third.token)]


async def test_of_concurrent_rotations_of_one_token_exactly_one_wins(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key)
    issued = await tokens.issue(ada.id)
    results = await asyncio.gather(*(tokens.rotate(issued.token) for _ in range(8)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    entries = await stored_tokens(tether_db, ada.id)
    assert [e["hash"] for e in entries] == [key.hash(winners[0].token)]


async def test_two_rotations_in_open_transactions_one_waits_then_finds_nothing(
    tether_db, people, key
):
    """The second rotation waits on the user's row lock; when the first commits,
    PostgreSQL re-checks the second's WHERE on the new row, where the old hash is gone."""
    ada, _ = people
    issued = await RefreshTokenRepository(tether_db, key).issue(ada.id)
    async with tether_db.connection() as second:
        async with tether_db.transaction() as first:
            won = await RefreshTokenRepository(first, key).rotate(issued.token)
            assert won is not None
            waiting = asyncio.create_task(RefreshTokenRepository(second, key).rotate(issued.token))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # blocked on the row lock the first one holds
        assert await waiting is None
    entries = await stored_tokens(tether_db, ada.id)
    assert [e["hash"] for e in entries] == [key.hash(won.token)]


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
    assert await tokens.rotate(issued[2].token) is not None


async def test_a_token_for_a_missing_user_is_not_found(tether_db, key):
    with pytest.raises(NotFound, match=r"chat\.users"):
        await RefreshTokenRepository(tether_db, key).issue(uuid.uuid4())


@pytest.mark.parametrize("ttl", [dt.timedelta(0), dt.timedelta(seconds=-1)])
async def test_a_token_must_expire_after_it_is_issued(tether_db, people, key, ttl):
    ada, _ = people
    with pytest.raises(InvalidValue) as refused:
        await RefreshTokenRepository(tether_db, key).issue(ada.id, ttl=ttl)
    assert refused.value.constraint == "users_refresh_tokens_check"
    assert await stored_tokens(tether_db, ada.id) == []


@pytest.mark.parametrize("token", [None, 42, b"bytes", ["a"]])
async def test_a_token_that_is_not_text_is_an_invalid_value(tether_db, key, token):
    tokens = RefreshTokenRepository(tether_db, key)
    for call in (tokens.rotate, tokens.revoke):
        with pytest.raises(InvalidValue, match=r"chat\.users: a refresh token is text"):
            await call(token)


@pytest.mark.parametrize(
    "value",
    [
        {},
        "[1]",
        [{"hash": "raw-token-0123456789abcdefghijklmnopqrstuvwx"}],
        [{"hash": "a" * 64, "issued_at": "2026-01-01T00:00:00+00:00"}],
        [
            {
                "hash": "a" * 64,
                "issued_at": "2026-01-01T00:00:00+00:00",
                "expires_at": "2027-01-01T00:00:00+00:00",
                "token": "raw",
            }
        ],
        [
            {
                "hash": "A" * 64,
                "issued_at": "2026-01-01T00:00:00+00:00",
                "expires_at": "2027-01-01T00:00:00+00:00",
            }
        ],
        [
            {
                "hash": "a" * 64,
                "issued_at": "2026-01-01T00:00:00+00:00",
                "expires_at": "2025-01-01T00:00:00+00:00",
            }
        ],
    ],
)
async def test_the_database_refuses_refresh_tokens_it_would_not_write(tether_db, people, value):
    ada, _ = people
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await tether_db.pool.execute(
            "update chat.users set refresh_tokens = $1::text::jsonb where id = $2",
            value if isinstance(value, str) else json.dumps(value),
            ada.id,
        )
    assert refused.value.constraint_name == "users_refresh_tokens_check"


async def test_twenty_one_entries_are_refused(tether_db, people):
    ada, _ = people
    entry = {
        "hash": "a" * 64,
        "issued_at": "2026-01-01T00:00:00.123456+05:30",
        "expires_at": "2099-01-01T00:00:00+00:00",
    }
    update = "update chat.users set refresh_tokens = $1::text::jsonb where id = $2"
    await tether_db.pool.execute(update, json.dumps([entry] * 20), ada.id)
    with pytest.raises(asyncpg.CheckViolationError):
        await tether_db.pool.execute(update, json.dumps([entry] * 21), ada.id)


def test_the_key_is_never_shown_and_comes_from_the_environment(monkeypatch):
    secret = "k" * 40
    monkeypatch.setenv(KEY_VARIABLE, secret)
    key = TokenKey.from_environment()
    assert key.secret == secret.encode() and secret not in repr(key)
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(ValueError, match=KEY_VARIABLE):
        TokenKey.from_environment()
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenKey(b"short")


@pytest.fixture
def fresh_default_key():
    """default_key() forgotten before and after the test (it is kept per process)."""
    default_key.cache_clear()
    yield
    default_key.cache_clear()


async def test_without_a_key_the_environments_is_read_once(
    tether_db, people, monkeypatch, fresh_default_key
):
    ada, _ = people
    monkeypatch.setenv(KEY_VARIABLE, "first-key-" + "k" * 32)
    issued = await RefreshTokenRepository(tether_db).issue(ada.id)
    first = TokenKey(b"first-key-" + b"k" * 32)
    [entry] = await stored_tokens(tether_db, ada.id)
    assert entry["hash"] == first.hash(issued.token)
    # Changed in the environment later: the process keeps the key it read.
    monkeypatch.setenv(KEY_VARIABLE, "second-key-" + "k" * 32)
    assert await RefreshTokenRepository(tether_db).rotate(issued.token) is not None
    default_key.cache_clear()  # as a restart would
    assert default_key() == TokenKey(b"second-key-" + b"k" * 32)


def test_no_key_at_all_fails_at_construction(tether_db, monkeypatch, fresh_default_key):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    with pytest.raises(ValueError, match=f"set \\${KEY_VARIABLE}"):
        RefreshTokenRepository(tether_db)


@pytest.mark.parametrize(
    "wrong", ["k" * 40, b"k" * 40, TokenKey.generate().secret], ids=["str", "bytes", "raw-secret"]
)
def test_a_key_of_the_wrong_type_fails_at_construction(tether_db, wrong):
    with pytest.raises(TypeError, match=r"key is a tether\.chat\.TokenKey, not") as refused:
        RefreshTokenRepository(tether_db, key=wrong)
    assert str(wrong) not in str(refused.value)
