"""Fixtures of the chat tests: a token key, and the story's two users."""

from functools import partial

import pytest

import domain_checks
from tether.chat import TokenKey
from tether.chat.story import build_users


@pytest.fixture
def key() -> TokenKey:
    return TokenKey.generate()


@pytest.fixture
async def people(tether_db):
    """Ada (password) and Ben (OAuth), as the demo signs them up."""
    return await build_users(tether_db)


counts = partial(domain_checks.counts, schema="chat")


async def drift(db) -> list[dict]:
    """Conversations whose counters differ from what count(*) and max() say."""
    rows = await db.pool.fetch(
        """
        select c.id, c.messages_count, c.last_message_at, m.n, m.newest
        from chat.conversations c
        left join lateral (
            select count(*) as n, max(created_at) as newest
            from chat.messages where conversation_id = c.id
        ) m on true
        where c.messages_count <> m.n or c.last_message_at is distinct from m.newest
        """
    )
    return [dict(r) for r in rows]
