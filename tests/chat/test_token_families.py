"""Refresh-token families, attacked: a replayed (stolen) token revokes its family in the
same statement and the service learns it (TokenReuse); a retry within the grace window
is forgiven once; racing rotations of one token leave one live token or none; a family
never outlives its lifetime. Live tokens are counted in the database."""

import asyncio
import datetime as dt

import pytest

from tether.chat import RefreshTokenRepository, TokenReuse

NO_GRACE = dt.timedelta(0)


async def live_in_family(db, user_id, token_hash) -> int:
    """The live entries of the family of the entry `token_hash`, counted by SQL."""
    return await db.pool.fetchval(
        """
        select count(*)
        from chat.users u, jsonb_array_elements(u.refresh_tokens) e(t)
        where u.id = $1 and e.t -> 'spent_at' = 'null'::jsonb
          and e.t ->> 'family' = (select f.t ->> 'family'
                                  from jsonb_array_elements(u.refresh_tokens) f(t)
                                  where f.t ->> 'hash' = $2)
        """,
        user_id,
        token_hash,
    )


async def test_a_replay_after_the_window_revokes_the_family(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=NO_GRACE)
    stolen = await tokens.issue(ada.id)
    other_device = await tokens.issue(ada.id)
    owners = await tokens.rotate(stolen.token)
    assert owners is not None
    assert await live_in_family(tether_db, ada.id, key.hash(stolen.token)) == 1
    with pytest.raises(TokenReuse) as reuse:
        await tokens.rotate(stolen.token)  # the thief's copy
    assert (reuse.value.user_id, reuse.value.table) == (ada.id, "chat.users")
    assert stolen.token not in str(reuse.value) and key.hash(stolen.token) not in str(reuse.value)
    assert await live_in_family(tether_db, ada.id, key.hash(stolen.token)) == 0
    # The owner's newest token went with the family; it too is now reuse.
    with pytest.raises(TokenReuse):
        await tokens.rotate(owners.token)
    # Another sign-in's family is untouched.
    assert await live_in_family(tether_db, ada.id, key.hash(other_device.token)) == 1
    assert await tokens.rotate(other_device.token) is not None


async def test_a_thief_who_rotates_first_is_caught_when_the_owner_returns(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=NO_GRACE)
    issued = await tokens.issue(ada.id)
    thiefs = await tokens.rotate(issued.token)
    assert thiefs is not None
    thiefs = await tokens.rotate(thiefs.token)  # keeps the session going
    assert thiefs is not None
    with pytest.raises(TokenReuse):
        await tokens.rotate(issued.token)  # the owner's copy, spent by the thief
    assert await tokens.active(ada.id) == []
    with pytest.raises(TokenReuse):
        await tokens.rotate(thiefs.token)


async def test_a_retry_within_the_window_gets_a_new_pair_once(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=dt.timedelta(seconds=30))
    issued = await tokens.issue(ada.id)
    lost = await tokens.rotate(issued.token)  # the response never reached the client
    retried = await tokens.rotate(issued.token)
    assert lost is not None and retried is not None and lost.token != retried.token
    # Only the newest pair lives: the first successor is revoked.
    assert await live_in_family(tether_db, ada.id, key.hash(issued.token)) == 1
    assert len(await tokens.active(ada.id)) == 1
    with pytest.raises(TokenReuse):
        await tokens.rotate(issued.token)  # a second retry is reuse
    assert await live_in_family(tether_db, ada.id, key.hash(issued.token)) == 0


async def test_the_lost_successor_turning_up_later_is_reuse(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=dt.timedelta(seconds=30))
    issued = await tokens.issue(ada.id)
    lost = await tokens.rotate(issued.token)
    retried = await tokens.rotate(issued.token)
    assert lost is not None and retried is not None
    with pytest.raises(TokenReuse):
        await tokens.rotate(lost.token)
    with pytest.raises(TokenReuse):
        await tokens.rotate(retried.token)


async def test_an_older_spent_token_is_reuse_even_within_the_window(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=dt.timedelta(seconds=30))
    first = await tokens.issue(ada.id)
    second = await tokens.rotate(first.token)
    assert second is not None
    third = await tokens.rotate(second.token)
    assert third is not None
    with pytest.raises(TokenReuse):
        await tokens.rotate(first.token)  # two rotations back: not the one just replaced
    assert await live_in_family(tether_db, ada.id, key.hash(first.token)) == 0


async def test_the_window_closes(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=dt.timedelta(milliseconds=200))
    issued = await tokens.issue(ada.id)
    assert await tokens.rotate(issued.token) is not None
    await asyncio.sleep(0.3)
    with pytest.raises(TokenReuse):
        await tokens.rotate(issued.token)
    assert await tokens.active(ada.id) == []


async def test_racing_rotations_without_grace_one_wins_and_the_loser_revokes(
    tether_db, people, key
):
    """Two connections rotate one token at once: the second waits on the row lock, then
    PostgreSQL recomputes its UPDATE on the first's row, where the token is spent:
    reuse, and the family (the winner's new token too) is revoked."""
    ada, _ = people
    issued = await RefreshTokenRepository(tether_db, key).issue(ada.id)
    async with tether_db.connection() as second:
        async with tether_db.transaction() as first:
            won = await RefreshTokenRepository(first, key, grace=NO_GRACE).rotate(issued.token)
            assert won is not None
            waiting = asyncio.create_task(
                RefreshTokenRepository(second, key, grace=NO_GRACE).rotate(issued.token)
            )
            await asyncio.sleep(0.2)
            assert not waiting.done()  # blocked on the row lock the first one holds
        with pytest.raises(TokenReuse):
            await waiting
    assert await live_in_family(tether_db, ada.id, key.hash(issued.token)) == 0


async def test_racing_rotations_within_grace_leave_exactly_one_live_token(tether_db, people, key):
    """Two at once within the window: the second is a retry, both get a token, only the
    second's lives. Eight at once: the third is a second retry, and the family is revoked."""
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key, grace=dt.timedelta(seconds=30))
    issued = await tokens.issue(ada.id)
    pair = await asyncio.gather(*(tokens.rotate(issued.token) for _ in range(2)))
    assert all(r is not None for r in pair)
    assert await live_in_family(tether_db, ada.id, key.hash(issued.token)) == 1
    live = [r for r in pair if r is not None and await _live(tokens, r.token)]
    assert len(live) == 1

    issued = await tokens.issue(ada.id)
    results = await asyncio.gather(
        *(tokens.rotate(issued.token) for _ in range(8)), return_exceptions=True
    )
    assert sum(isinstance(r, TokenReuse) for r in results) >= 1
    assert all(isinstance(r, TokenReuse) or r is not None for r in results)
    assert await live_in_family(tether_db, ada.id, key.hash(issued.token)) == 0


async def _live(tokens: RefreshTokenRepository, token: str) -> bool:
    """Whether `token` is live, by revoking it (True when it was held live)."""
    return await tokens.revoke(token)


async def test_rotation_never_extends_the_familys_lifetime(tether_db, people, key):
    ada, _ = people
    lifetime = dt.timedelta(seconds=2)
    tokens = RefreshTokenRepository(tether_db, key, lifetime=lifetime)
    issued = await tokens.issue(ada.id, ttl=dt.timedelta(days=30))
    assert issued.expires_at == issued.issued_at + lifetime
    rotated = await tokens.rotate(issued.token, ttl=dt.timedelta(days=30))
    assert rotated is not None and rotated.expires_at == issued.expires_at
    await asyncio.sleep(2.1)
    assert await tokens.rotate(rotated.token) is None
    assert await tokens.active(ada.id) == []


async def test_a_shorter_lifetime_applies_to_families_already_issued(tether_db, people, key):
    ada, _ = people
    issued = await RefreshTokenRepository(tether_db, key).issue(ada.id)
    await asyncio.sleep(0.1)
    shorter = RefreshTokenRepository(tether_db, key, lifetime=dt.timedelta(milliseconds=50))
    assert await shorter.rotate(issued.token) is None
