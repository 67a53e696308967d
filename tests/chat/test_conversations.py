"""Conversations: create, rename, get with the counters the database keeps, delete with
its messages, and a user's conversations newest first by keyset, stable under inserts
between pages, with a cursor a service can hand to its client."""

import uuid

import pytest

from tether import InvalidValue, NotFound
from tether.chat import ConversationRepository, MessageRepository
from tether.chat.repositories import Q
from tether.chat.story import build_conversation
from tether.testing import expect_changes

from .conftest import counts


async def test_create_rename_and_get(tether_db, people):
    ada, _ = people
    conversations = ConversationRepository(tether_db)
    made = await conversations.create(ada.id)
    assert (made.user_id, made.title, made.messages_count, made.last_message_at) == (
        ada.id,
        None,
        0,
        None,
    )
    renamed = await conversations.rename(made.id, "t" * 512)
    assert renamed.title == "t" * 512 and renamed.created_at == made.created_at
    assert await conversations.get(made.id) == renamed
    assert (await conversations.rename(made.id, None)).title is None


async def test_a_title_longer_than_512_is_refused(tether_db, people):
    ada, _ = people
    conversations = ConversationRepository(tether_db)
    with pytest.raises(InvalidValue) as refused:
        await conversations.create(ada.id, "t" * 513)
    assert (refused.value.table, refused.value.constraint) == (
        "chat.conversations",
        "conversations_title_check",
    )
    made = await conversations.create(ada.id, "fine")
    with pytest.raises(InvalidValue):
        await conversations.rename(made.id, "t" * 513)
    assert (await conversations.get(made.id)).title == "fine"


async def test_missing_conversations(tether_db):
    conversations = ConversationRepository(tether_db)
    with pytest.raises(NotFound, match=r"chat\.conversations"):
        await conversations.get(uuid.uuid4())
    with pytest.raises(NotFound, match=r"chat\.conversations"):
        await conversations.rename(uuid.uuid4(), "x")
    assert not await conversations.delete(uuid.uuid4())


async def test_deleting_a_conversation_deletes_its_messages_only(tether_db, people):
    ada, ben = people
    doomed, _, _ = await build_conversation(tether_db, ada)
    kept, _, _ = await build_conversation(tether_db, ada)
    await build_conversation(tether_db, ben)
    async with (
        tether_db.connection() as conn,
        expect_changes(conn, deleted={"chat.conversations": 1, "chat.messages": 2}, updated={}),
    ):
        assert await ConversationRepository(conn).delete(doomed.id)
    assert await counts(tether_db) == {"users": 2, "conversations": 2, "messages": 4}
    assert (await ConversationRepository(tether_db).get(kept.id)).messages_count == 2


async def test_pages_newest_first_cover_every_conversation_once_despite_inserts(tether_db, people):
    ada, ben = people
    conversations = ConversationRepository(tether_db)
    made = [await conversations.create(ada.id, f"#{n}") for n in range(25)]
    await conversations.create(ben.id, "not Ada's")
    seen: list[str] = []
    page = await conversations.page_of_user(ada.id, limit=10)
    while True:
        assert all(isinstance(c.title, str) for c in page)
        seen += [c.title for c in page]
        # A new conversation between two requests lands before page 1.
        await conversations.create(ada.id, "newer than every page")
        if page.next is None:
            break
        assert isinstance(page.next, str) and page.next.isascii()
        page = await conversations.page_of_user(ada.id, limit=10, after=page.next)
    assert seen == [c.title for c in reversed(made)]
    assert [len(p) for p in (await conversations.page_of_user(ada.id, limit=1000),)] == [28]


async def test_conversations_with_the_same_creation_time_page_by_id(tether_db, people):
    """Conversations made in one transaction share created_at: id orders them."""
    ada, _ = people
    async with tether_db.transaction() as conn:
        made = [await ConversationRepository(conn).create(ada.id, f"#{n}") for n in range(7)]
    assert len({c.created_at for c in made}) == 1
    conversations = ConversationRepository(tether_db)
    seen, after = [], None
    while True:
        page = await conversations.page_of_user(ada.id, limit=3, after=after)
        seen += [c.id for c in page]
        if (after := page.next) is None:
            break
    assert seen == sorted((c.id for c in made), reverse=True)


@pytest.mark.parametrize("cursor", ["", "x", "W1sidCIsMV1d", "bm90IGpzb24"])
async def test_a_cursor_not_made_here_is_an_invalid_value(tether_db, people, cursor):
    with pytest.raises(InvalidValue, match="the page cursor is not one this API gave out"):
        await ConversationRepository(tether_db).page_of_user(people[0].id, after=cursor)


async def test_a_message_page_cursor_is_no_conversation_page_cursor(tether_db, people):
    """Both key on (created_at, id); a cursor only says where to start."""
    ada, _ = people
    conversation, _, _ = await build_conversation(tether_db, ada)
    first = await MessageRepository(tether_db).page_of_conversation(conversation.id, limit=1)
    cursor = first.next
    page = await ConversationRepository(tether_db).page_of_user(ada.id, after=cursor)
    assert [c.id for c in page] == [conversation.id]


async def test_the_page_query_reads_the_index_from_the_cursor(tether_db, people):
    ada, _ = people
    plan = await tether_db.pool.fetchval(
        "explain (format json) " + Q.conversations_page.sql,
        ada.id,
        None,
        None,
        20,
    )
    text = str(plan)
    assert "conversations_user_id_created_at_id_idx" in text
    assert "'Sort'" not in text and "Backward" in text
