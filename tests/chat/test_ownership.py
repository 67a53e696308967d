"""The owner-scoped forms, attacked on an unscoped connection (no tenant: the
database's row-level security is not there to help): Ben, naming Ada's conversation
and messages by id, reads, renames, deletes, streams into or appends to nothing, and
Ada's rows are what they were, counted by SQL; Ada's own calls work."""

import pytest

from tether import MissingReference, NotFound
from tether.chat import ConversationRepository, MessageRepository, MessageStatus, Sender
from tether.chat.story import build_conversation

from .conftest import counts


async def state(db, conversation_id) -> dict:
    row = await db.pool.fetchrow(
        """
        select c.title, c.messages_count,
               (select string_agg(m.content || ':' || m.status, '|' order by m.created_at)
                from chat.messages m where m.conversation_id = c.id) as messages
        from chat.conversations c where c.id = $1
        """,
        conversation_id,
    )
    return dict(row)


async def test_another_user_gets_nothing_of_a_conversation_by_its_id(tether_db, people):
    ada, ben = people
    conversation, question, _ = await build_conversation(tether_db, ada)
    streaming = await MessageRepository(tether_db).append(
        conversation.id, Sender.ASSISTANT, "", status=MessageStatus.STREAMING
    )
    before, rows = await state(tether_db, conversation.id), await counts(tether_db)
    conversations, messages = ConversationRepository(tether_db), MessageRepository(tether_db)

    with pytest.raises(NotFound, match=r"chat\.conversations"):
        await conversations.get_owned(ben.id, conversation.id)
    with pytest.raises(NotFound, match=r"chat\.conversations"):
        await conversations.rename_owned(ben.id, conversation.id, "mine now")
    assert not await conversations.delete_owned(ben.id, conversation.id)
    with pytest.raises(NotFound, match=r"chat\.messages"):
        await messages.get_owned(ben.id, question.id)
    assert not await messages.append_chunk_owned(ben.id, streaming.id, " injected")
    assert await messages.finish_owned(ben.id, streaming.id, MessageStatus.FAILED) is None
    assert (await messages.page_owned(ben.id, conversation.id)).items == ()
    assert not await messages.delete_owned(ben.id, question.id)
    with pytest.raises(MissingReference) as refused:
        await messages.append_owned(ben.id, conversation.id, Sender.USER, "injected")
    assert refused.value.constraint == "messages_conversation_id_fkey"

    assert await state(tether_db, conversation.id) == before
    assert await counts(tether_db) == rows


async def test_the_owner_does_everything_through_the_owned_forms(tether_db, people):
    ada, _ = people
    conversations, messages = ConversationRepository(tether_db), MessageRepository(tether_db)
    conversation = await conversations.create(ada.id, "mine")
    assert (await conversations.get_owned(ada.id, conversation.id)).title == "mine"
    assert (await conversations.rename_owned(ada.id, conversation.id, "renamed")).title == "renamed"
    reply = await messages.append_owned(
        ada.id, conversation.id, Sender.ASSISTANT, "", status=MessageStatus.STREAMING
    )
    assert await messages.append_chunk_owned(ada.id, reply.id, "hello")
    finished = await messages.finish_owned(ada.id, reply.id, MessageStatus.SENT, {"model": "m"})
    assert finished is not None and (finished.content, finished.metadata) == (
        "hello",
        {"model": "m"},
    )
    assert await messages.get_owned(ada.id, reply.id) == finished
    assert [m.id for m in await messages.page_owned(ada.id, conversation.id)] == [reply.id]
    assert (await state(tether_db, conversation.id))["messages_count"] == 1
    assert await messages.delete_owned(ada.id, reply.id)
    assert (await state(tether_db, conversation.id))["messages_count"] == 0
    assert await conversations.delete_owned(ada.id, conversation.id)
    assert (await counts(tether_db))["conversations"] == 0
