"""Tenancy in chat (SPEC "Tenancy"): a user is a tenant. Two users' whole trees; scoped
to one (`db.tenant(user_id)`), the database shows, changes and lets it refer to that
user's rows only, and keeps the counters exact; unscoped as tether_service, nothing;
and no message, however written, sits in another user's conversation."""

import pytest

from tenancy_checks import (
    assert_isolated,
    assert_tenant_tables,
    grants,
    hand_written,
    unscoped_service,
)
from tether import MissingReference, NotFound, OutOfScope
from tether.chat import (
    ConversationRepository,
    MessageRepository,
    RefreshTokenRepository,
    UserRepository,
)
from tether.testing import expect_changes

from .conftest import counts, drift

# Each tenant table and the column holding its tenant (a user's id).
TABLES = {"users": "id", "conversations": "user_id", "messages": "user_id"}


async def tree(db, email: str) -> dict:
    """A user with two conversations of two and one messages."""
    user = await UserRepository(db).sign_in_oauth("test", email, email, email_verified=False)
    first = await ConversationRepository(db).create(user.id, "Headache")
    second = await ConversationRepository(db).create(user.id, "Sleep")
    messages = MessageRepository(db)
    question = await messages.append(first.id, "user", "It hurts")
    await messages.append(first.id, "assistant", "Since when?")
    await messages.append(second.id, "user", "I wake at 4")
    return {"user": user, "first": first, "second": second, "question": question}


@pytest.fixture
async def trees(tether_db):
    return await tree(tether_db, "ann@example.com"), await tree(tether_db, "bob@example.com")


async def test_every_table_is_a_tenant_table_with_only_the_grants_its_repositories_need(
    tether_db,
):
    await assert_tenant_tables(tether_db, "chat", TABLES)
    every_dml = ["DELETE", "INSERT", "SELECT", "UPDATE"]
    assert await grants(tether_db, "chat") == dict.fromkeys(TABLES, every_dml)


async def test_scoped_to_a_user_every_table_shows_exactly_that_users_rows(tether_db, trees):
    ann, bob = trees
    await assert_isolated(tether_db, "chat", TABLES, ann["user"].id, bob["user"].id)


async def test_another_users_rows_cannot_be_read_changed_or_deleted(tether_db, trees, key):
    ann, bob = trees
    before = await counts(tether_db)
    async with tether_db.tenant(ann["user"].id) as conn:
        with pytest.raises(NotFound):
            await UserRepository(conn).get(bob["user"].id)
        with pytest.raises(NotFound):
            await ConversationRepository(conn).get(bob["first"].id)
        with pytest.raises(NotFound):
            await MessageRepository(conn).get(bob["question"].id)
        with pytest.raises(NotFound):
            await ConversationRepository(conn).rename(bob["first"].id, "Mine now")
        with pytest.raises(NotFound):
            await UserRepository(conn).change_password(bob["user"].id, "x" * 60)
        with pytest.raises(NotFound):
            await RefreshTokenRepository(conn, key).issue(bob["user"].id)
        assert not await MessageRepository(conn).append_chunk(bob["question"].id, "!")
        assert not await MessageRepository(conn).delete(bob["question"].id)
        assert not await ConversationRepository(conn).delete(bob["second"].id)
        assert not await UserRepository(conn).delete(bob["user"].id)
        # Ann's own conversation is hers to rename.
        renamed = await ConversationRepository(conn).rename(ann["first"].id, "Migraine")
        assert renamed.title == "Migraine"
    assert await counts(tether_db) == before
    bob_now = await tether_db.pool.fetchrow(
        "select title, messages_count from chat.conversations where id = $1", bob["first"].id
    )
    assert dict(bob_now) == {"title": "Headache", "messages_count": 2}
    assert (
        await tether_db.pool.fetchval(
            "select content from chat.messages where id = $1", bob["question"].id
        )
        == "It hurts"
    )


async def test_another_users_conversation_cannot_be_written_to(tether_db, trees):
    ann, bob = trees
    before = await counts(tether_db)
    async with tether_db.tenant(ann["user"].id) as conn:
        # Invisible here: the message has no user, as if the conversation did not exist.
        with pytest.raises(MissingReference) as refused:
            await MessageRepository(conn).append(bob["first"].id, "user", "Planted")
        assert refused.value.constraint == "messages_conversation_id_fkey"
    async with tether_db.tenant(ann["user"].id) as conn:
        with pytest.raises(OutOfScope, match="row-level security"):
            await ConversationRepository(conn).create(bob["user"].id, "Planted")
    assert await counts(tether_db) == before
    assert await drift(tether_db) == []


async def test_a_hand_written_insert_cannot_put_a_message_in_another_users_conversation(
    tether_db, trees
):
    """Even the owner, unscoped, naming Ann as the message's user: Bob's conversation is
    not Ann's."""
    ann, bob = trees
    with pytest.raises(MissingReference) as refused:
        await hand_written(
            tether_db.pool,
            "chat",
            "insert into chat.messages (conversation_id, user_id, sender, content) "
            "values ($1, $2, 'user', 'Planted')",
            bob["first"].id,
            ann["user"].id,
        )
    assert refused.value.constraint == "messages_conversation_id_fkey"
    assert "the message's conversation must exist, and be its user's" in str(refused.value)


async def test_an_insert_naming_only_the_spec_columns_gets_its_conversations_user(tether_db, trees):
    ann, bob = trees
    for owner in (ann, bob):
        message_user = await tether_db.pool.fetchval(
            "insert into chat.messages (conversation_id, sender, content) "
            "values ($1, 'user', 'More') returning user_id",
            owner["second"].id,
        )
        assert message_user == owner["second"].user_id == owner["user"].id
    async with tether_db.tenant(ann["user"].id) as conn:
        message_user = await conn.fetchval(
            "insert into chat.messages (conversation_id, sender, content) "
            "values ($1, 'user', 'Scoped') returning user_id",
            ann["first"].id,
        )
    assert message_user == ann["user"].id
    assert await drift(tether_db) == []


async def test_scoped_counters_stay_exact(tether_db, trees):
    """The counters' triggers run as tether_service under the scope: they see and update
    the user's own conversation."""
    ann, _ = trees
    async with tether_db.tenant(ann["user"].id) as conn:
        messages = MessageRepository(conn)
        reply = await messages.append(ann["second"].id, "assistant", "", status="streaming")
        assert await messages.append_chunk(reply.id, "Try ")
        await messages.finish(reply.id, "sent")
        assert await messages.delete(ann["question"].id)
    assert await drift(tether_db) == []
    counted = await tether_db.pool.fetch(
        "select id, messages_count from chat.conversations where user_id = $1",
        ann["user"].id,
    )
    assert {r["id"]: r["messages_count"] for r in counted} == {
        ann["first"].id: 1,
        ann["second"].id: 2,
    }


@pytest.mark.parametrize("scoped", [True, False], ids=["scoped", "unscoped"])
async def test_deleting_a_user_removes_the_whole_tree(tether_db, trees, scoped):
    ann, _ = trees
    whole_tree = {"chat.users": 1, "chat.conversations": 2, "chat.messages": 3}
    scope = tether_db.tenant(ann["user"].id) if scoped else tether_db.transaction()
    async with scope as conn, expect_changes(conn, deleted=whole_tree):
        assert await UserRepository(conn).delete(ann["user"].id)
    assert await counts(tether_db) == {"users": 1, "conversations": 2, "messages": 3}
    assert await drift(tether_db) == []


async def test_unscoped_service_sees_nothing_and_writes_nothing(tether_db, trees, key):
    ann, _ = trees
    before = await counts(tether_db)
    async with unscoped_service(tether_db) as conn:
        assert await UserRepository(conn).find_by_email("ann@example.com") is None
        assert not await ConversationRepository(conn).delete(ann["first"].id)
        assert await RefreshTokenRepository(conn, key).active(ann["user"].id) == []
    assert await counts(tether_db) == before
