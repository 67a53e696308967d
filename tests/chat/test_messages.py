"""Messages: appended and counted by the database, streamed one statement per chunk,
finished as sent or failed, paged in order by keyset (a page deep in a long conversation
read from the index at the cursor), deleted with the counters following; every refused
write a tether error naming table and rule."""

import uuid

import asyncpg
import pytest

from tether import InvalidValue, MissingReference, NotFound
from tether.chat import ConversationRepository, MessageRepository, MessageStatusConflict
from tether.chat.repositories import Q
from tether.chat.story import QUESTION, REPLY, build_conversation
from tether.testing import expect_changes
from tether.translate import translate

from .conftest import counts, drift


@pytest.fixture
async def chat(tether_db, people):
    """Ada's conversation, empty."""
    ada, _ = people
    return await ConversationRepository(tether_db).create(ada.id, "Questions")


async def test_appending_counts_the_message_into_its_conversation(tether_db, chat):
    messages = MessageRepository(tether_db)
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn, inserted={"chat.messages": 1}, updated={"chat.conversations": 1}, deleted={}
        ),
    ):
        first = await MessageRepository(conn).append(chat.id, "user", "hello", metadata={"a": 1})
    assert (first.sender, first.content, first.status, first.metadata) == (
        "user",
        "hello",
        "sent",
        {"a": 1},
    )
    second = await messages.append(chat.id, "assistant", "hi")
    assert second.metadata == {}
    conversation = await ConversationRepository(tether_db).get(chat.id)
    assert (conversation.messages_count, conversation.last_message_at) == (2, second.created_at)
    assert await messages.get(first.id) == first
    assert await drift(tether_db) == []


async def test_messages_appended_in_one_transaction_keep_their_order(tether_db, chat):
    async with tether_db.transaction() as conn:
        made = [await MessageRepository(conn).append(chat.id, "user", f"#{n}") for n in range(5)]
    assert [m.created_at for m in made] == sorted({m.created_at for m in made})
    page = await MessageRepository(tether_db).page_of_conversation(chat.id)
    assert [m.content for m in page] == [f"#{n}" for n in range(5)]


async def test_a_reply_streams_one_statement_per_chunk(tether_db, people):
    ada, _ = people
    conversation, question, reply = await build_conversation(tether_db, ada)
    assert (question.content, question.metadata) == (QUESTION, {"client": "web-app"})
    assert (reply.sender, reply.status, reply.content) == ("assistant", "sent", "".join(REPLY))
    assert reply.metadata == {"model": "veda-1", "chunks": len(REPLY)}
    messages = MessageRepository(tether_db)
    streaming = await messages.append(conversation.id, "assistant", "", status="streaming")
    sent: list[str] = []

    def log(record):
        sent.append(record.query)

    async with tether_db.connection() as conn:
        conn.add_query_logger(log)
        for chunk in ("one ", "two ", "three"):
            assert await MessageRepository(conn).append_chunk(streaming.id, chunk)
        conn.remove_query_logger(log)
    assert sent == [Q.append_chunk.sql] * 3
    assert (await messages.get(streaming.id)).content == "one two three"


async def test_a_finished_or_failed_message_takes_no_more_chunks(tether_db, chat):
    messages = MessageRepository(tether_db)
    streaming = await messages.append(chat.id, "assistant", "", status="streaming")
    assert await messages.append_chunk(streaming.id, "partial")
    failed = await messages.finish(streaming.id, "failed", {"error": "model timeout"})
    assert (failed.status, failed.content, failed.metadata) == (
        "failed",
        "partial",
        {"error": "model timeout"},
    )
    assert not await messages.append_chunk(streaming.id, " more")
    assert await messages.finish(streaming.id, "sent") is None
    assert (await messages.get(streaming.id)).status == "failed"
    assert not await messages.append_chunk(uuid.uuid4(), "x")


async def test_a_message_being_sent_is_finished_as_sent(tether_db, chat):
    messages = MessageRepository(tether_db)
    sending = await messages.append(chat.id, "user", "hello", status="sending")
    assert not await messages.append_chunk(sending.id, "!")  # only a streaming message grows
    done = await messages.finish(sending.id)
    assert (done.status, done.content) == ("sent", "hello")


@pytest.mark.parametrize("status", ["streaming", "sending", "delivered", None])
async def test_a_message_finishes_as_sent_or_failed_only(tether_db, chat, status):
    messages = MessageRepository(tether_db)
    streaming = await messages.append(chat.id, "assistant", "", status="streaming")
    with pytest.raises(InvalidValue, match=r"chat\.messages: a message finishes as sent or failed"):
        await messages.finish(streaming.id, status)
    assert (await messages.get(streaming.id)).status == "streaming"


@pytest.mark.parametrize(
    ("old", "new"),
    [("sent", "streaming"), ("failed", "sent"), ("sent", "sending"), ("streaming", "sending")],
)
async def test_a_status_only_moves_forward(tether_db, chat, old, new):
    """No tether method moves a status back; the database refuses any other writer that
    tries, and tether reports it as a MessageStatusConflict."""
    message = await MessageRepository(tether_db).append(chat.id, "assistant", "x", status=old)
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await tether_db.pool.execute(
            "update chat.messages set status = $1 where id = $2", new, message.id
        )
    assert refused.value.constraint_name == "messages_status_transition_check"
    error = translate(refused.value, Q.finish_message)
    assert isinstance(error, MessageStatusConflict)
    assert str(error).startswith("chat.messages: a message's status only moves forward")


async def test_a_message_cannot_move_to_another_conversation_or_time(tether_db, people, chat):
    ada, _ = people
    other = await ConversationRepository(tether_db).create(ada.id)
    message = await MessageRepository(tether_db).append(chat.id, "user", "x")
    for statement, value in (
        ("update chat.messages set conversation_id = $1 where id = $2", other.id),
        (
            "update chat.messages set created_at = $1 where id = $2",
            message.created_at.replace(year=2020),
        ),
    ):
        with pytest.raises(asyncpg.CheckViolationError) as refused:
            await tether_db.pool.execute(statement, value, message.id)
        assert refused.value.constraint_name == "messages_placement_fixed"
    assert await drift(tether_db) == []


@pytest.mark.parametrize(
    ("sender", "status", "metadata", "error", "constraint"),
    [
        ("bot", "sent", None, InvalidValue, "messages_sender_check"),
        ("user", "read", None, InvalidValue, "messages_status_check"),
        ("user", "sent", ["not", "an", "object"], InvalidValue, "messages_metadata_check"),
        ("user", "sent", "text", InvalidValue, "messages_metadata_check"),
    ],
)
async def test_bad_messages_are_refused_by_the_right_rule(
    tether_db, chat, sender, status, metadata, error, constraint
):
    before = await counts(tether_db)
    with pytest.raises(error) as refused:
        await MessageRepository(tether_db).append(
            chat.id, sender, "x", status=status, metadata=metadata
        )
    assert (refused.value.table, refused.value.constraint) == ("chat.messages", constraint)
    assert await counts(tether_db) == before
    assert (await ConversationRepository(tether_db).get(chat.id)).messages_count == 0


async def test_a_message_for_a_missing_conversation_is_a_missing_reference(tether_db):
    with pytest.raises(MissingReference) as refused:
        await MessageRepository(tether_db).append(uuid.uuid4(), "user", "x")
    assert refused.value.constraint == "messages_conversation_id_fkey"


async def test_metadata_that_is_no_json_is_an_invalid_value(tether_db, chat):
    with pytest.raises(InvalidValue, match=r"argument :metadata"):
        await MessageRepository(tether_db).append(chat.id, "user", "x", metadata={"b": b"\x00"})
    streaming = await MessageRepository(tether_db).append(
        chat.id, "assistant", "", status="streaming"
    )
    with pytest.raises(InvalidValue, match="finish_message"):
        await MessageRepository(tether_db).finish(streaming.id, "sent", {"n": float("nan")})
    assert (await MessageRepository(tether_db).get(streaming.id)).status == "streaming"


async def test_deleting_messages_moves_the_counters_back(tether_db, chat):
    messages = MessageRepository(tether_db)
    made = [await messages.append(chat.id, "user", f"#{n}") for n in range(4)]
    conversations = ConversationRepository(tether_db)
    async with (
        tether_db.connection() as conn,
        expect_changes(conn, deleted={"chat.messages": 1}, updated={"chat.conversations": 1}),
    ):
        assert await MessageRepository(conn).delete(made[1].id)  # not the newest
    after = await conversations.get(chat.id)
    assert (after.messages_count, after.last_message_at) == (3, made[3].created_at)
    assert await messages.delete(made[3].id)  # the newest: fall back to the one before
    after = await conversations.get(chat.id)
    assert (after.messages_count, after.last_message_at) == (2, made[2].created_at)
    for message in (made[0], made[2]):
        assert await messages.delete(message.id)
    after = await conversations.get(chat.id)
    assert (after.messages_count, after.last_message_at) == (0, None)
    assert not await messages.delete(made[0].id)
    with pytest.raises(NotFound, match=r"chat\.messages"):
        await messages.get(made[0].id)


async def test_pages_in_order_cover_every_message_once(tether_db, chat):
    messages = MessageRepository(tether_db)
    made = [await messages.append(chat.id, "user", f"#{n}") for n in range(23)]
    seen, page = [], await messages.page_of_conversation(chat.id, limit=5)
    while True:
        seen += [m.id for m in page]
        if page.next is None:
            break
        page = await messages.page_of_conversation(chat.id, limit=5, after=page.next)
    assert seen == [m.id for m in made]
    last = await messages.page_of_conversation(chat.id, limit=23)
    assert last.next is None and len(last) == 23


async def test_a_page_deep_in_a_long_conversation_starts_at_the_cursor(tether_db, chat):
    """100,000 messages: the page after the 99,950th is read from the index at the
    cursor (no sort, no rows skipped), as the benchmark's keyset-against-OFFSET shows."""
    await tether_db.pool.execute(
        """
        insert into chat.messages (conversation_id, sender, content, created_at)
        select $1, 'user', 'm' || n, timestamptz '2026-01-01' + n * interval '1 second'
        from generate_series(1, 100000) n
        """,
        chat.id,
    )
    await tether_db.pool.execute("analyze chat.messages")
    conversation = await ConversationRepository(tether_db).get(chat.id)
    assert conversation.messages_count == 100_000
    messages = MessageRepository(tether_db)
    cursor = (await messages.page_of_conversation(chat.id, limit=1)).next
    anchor = await tether_db.pool.fetchrow(
        "select created_at, id from chat.messages where content = 'm99950'"
    )
    from tether import paging  # the cursor a client would hold after 99,950 messages

    cursor = paging.encode([anchor["created_at"], anchor["id"]])
    page = await messages.page_of_conversation(chat.id, limit=50, after=cursor)
    assert [m.content for m in page] == [f"m{n}" for n in range(99951, 100001)]
    assert page.next is None
    plan = await tether_db.pool.fetchval(
        "explain (analyze, format json) " + Q.messages_page.sql,
        chat.id,
        anchor["created_at"],
        anchor["id"],
        51,
    )
    # The Limit's input (its other child is the subquery that holds the limit).
    [scan] = [p for p in plan[0]["Plan"]["Plans"] if p["Parent Relationship"] == "Outer"]
    assert scan["Index Name"] == "messages_conversation_id_created_at_id_idx"
    assert scan["Actual Rows"] == 50
    assert "Sort" not in str(plan)
