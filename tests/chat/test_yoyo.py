"""The chat domain on a database built by plain `yoyo apply` with its two folders only
(`migrations/common migrations/chat`), as a service deploying chat alone would: every
rule holds there, through tether's repositories."""

import asyncio
import datetime as dt

import pytest

from domain_checks import yoyo_built
from tether import Database, InvalidValue
from tether.chat import (
    ConversationRepository,
    EmailTaken,
    MessageRepository,
    RefreshTokenRepository,
    TokenKey,
    UserRepository,
)
from tether.chat.story import build_conversation, build_users
from tether.testing import expect_changes


@pytest.fixture
async def yoyo_url(tether_server_url):
    async with yoyo_built(tether_server_url, "chat") as url:
        yield url


async def test_every_chat_rule_holds_on_a_plain_yoyo_database(yoyo_url):
    async with Database(yoyo_url) as db:
        schemas = await db.pool.fetchval(
            "select array_agg(nspname::text order by nspname) from pg_namespace "
            "where nspname in ('chat', 'planner')"
        )
        assert schemas == ["chat"]
        ada, _ = await build_users(db)
        with pytest.raises(EmailTaken):
            await UserRepository(db).sign_in_oauth(
                "test", "ada", "ADA.LOVELACE@example.com", email_verified=False
            )
        conversation, _, reply = await build_conversation(db, ada)
        with pytest.raises(InvalidValue) as refused:
            await MessageRepository(db).append(conversation.id, "robot", "x")
        assert refused.value.constraint == "messages_sender_check"
        assert reply.status == "sent"
        counters = await ConversationRepository(db).get(conversation.id)
        assert (counters.messages_count, counters.last_message_at) == (2, reply.created_at)

        tokens = RefreshTokenRepository(db, TokenKey.generate(), grace=dt.timedelta(0))
        issued = await tokens.issue(ada.id)
        results = await asyncio.gather(
            tokens.rotate(issued.token), tokens.rotate(issued.token), return_exceptions=True
        )
        # One wins; the other presents a spent token: reuse, the family revoked.
        assert sorted(type(r).__name__ for r in results) == ["RefreshToken", "TokenReuse"]
        assert await tokens.active(ada.id) == []

        await MessageRepository(db).delete(reply.id)
        counters = await ConversationRepository(db).get(conversation.id)
        assert counters.messages_count == 1 and counters.last_message_at < reply.created_at

        async with (
            db.connection() as conn,
            expect_changes(
                conn,
                deleted={"chat.users": 1, "chat.conversations": 1, "chat.messages": 1},
                updated={},
            ),
        ):
            assert await UserRepository(conn).delete(ada.id)
