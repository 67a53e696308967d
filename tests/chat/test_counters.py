"""messages_count and last_message_at, kept by the database: exact after concurrent
appends and deletes (8 appenders, 2 deleters), after a delete of the newest message that
races an insert still in flight, after cascades, COPY and TRUNCATE; and nobody else may
write them."""

import asyncio
import datetime as dt
import random

import asyncpg
import pytest

from tether import InvalidValue, MissingReference
from tether.chat import ConversationRepository, MessageRepository
from tether.chat.repositories import Q
from tether.testing import expect_changes
from tether.translate import translate

from .conftest import drift

APPENDERS, APPENDS, DELETERS = 8, 25, 2

NEWEST = """
select id from chat.messages where conversation_id = $1
order by created_at desc, id desc limit 1
"""


async def truth(db, conversation_id) -> tuple[int, dt.datetime | None]:
    """What count(*) and max() say of a conversation's messages."""
    row = await db.pool.fetchrow(
        "select count(*), max(created_at) from chat.messages where conversation_id = $1",
        conversation_id,
    )
    return row[0], row[1]


async def kept(db, conversation_id) -> tuple[int, dt.datetime | None]:
    """What the conversation's counters say."""
    conversation = await ConversationRepository(db).get(conversation_id)
    return conversation.messages_count, conversation.last_message_at


@pytest.fixture
async def chat(tether_db, people):
    ada, _ = people
    return await ConversationRepository(tether_db).create(ada.id, "hot")


async def test_eight_appenders_and_two_deleters_leave_exact_counters(tether_db, people):
    """Pool of ten: eight connections append 25 messages each over two conversations
    (one of them hot) while two others delete, mostly the newest message."""
    ada, _ = people
    hot = await ConversationRepository(tether_db).create(ada.id, "hot")
    warm = await ConversationRepository(tether_db).create(ada.id, "warm")
    appending = asyncio.Event()
    deleted: list[bool] = []

    async def append(worker: int) -> None:
        async with tether_db.connection() as conn:
            messages = MessageRepository(conn)
            for n in range(APPENDS):
                target = warm if worker % 4 == 3 else hot
                await messages.append(target.id, "user", f"{worker}.{n}")
                appending.set()

    async def delete(worker: int) -> None:
        rng = random.Random(worker)
        async with tether_db.connection() as conn:
            messages = MessageRepository(conn)
            await appending.wait()
            while not all(task.done() for task in appenders):
                target = hot if rng.random() < 0.8 else warm
                if rng.random() < 0.7:
                    victim = await conn.fetchval(NEWEST, target.id)
                else:
                    victim = await conn.fetchval(
                        "select id from chat.messages where conversation_id = $1 "
                        "order by random() limit 1",
                        target.id,
                    )
                if victim is not None:
                    deleted.append(await messages.delete(victim))
                await asyncio.sleep(0)

    appenders = [asyncio.create_task(append(w)) for w in range(APPENDERS)]
    await asyncio.gather(*appenders, *(delete(w) for w in range(DELETERS)))

    assert sum(deleted) > 0
    for conversation in (hot, warm):
        assert await kept(tether_db, conversation.id) == await truth(tether_db, conversation.id)
    total = sum([(await truth(tether_db, c.id))[0] for c in (hot, warm)])
    assert total == APPENDERS * APPENDS - sum(deleted)
    assert await drift(tether_db) == []


async def test_deleting_the_newest_while_an_insert_is_in_flight_sees_that_insert(tether_db, chat):
    """The insert holds the conversation's row lock; the delete waits for it, then reads
    the newest message in a statement of its own, after the insert committed."""
    messages = MessageRepository(tether_db)
    older = await messages.append(chat.id, "user", "older")
    newest = await messages.append(chat.id, "user", "newest")
    async with tether_db.connection() as deleter:
        async with tether_db.transaction() as inserter:
            late = await MessageRepository(inserter).append(chat.id, "assistant", "late")
            deleting = asyncio.create_task(MessageRepository(deleter).delete(newest.id))
            await asyncio.sleep(0.2)
            assert not deleting.done()  # waiting for the conversation's row lock
        assert await deleting
    assert await kept(tether_db, chat.id) == (2, late.created_at) == await truth(tether_db, chat.id)
    assert older.created_at < late.created_at


# The tempting trigger: recompute last_message_at inside the UPDATE that waits for the
# conversation's lock. Its subquery keeps the snapshot taken before the wait.
READ_INSIDE_THE_UPDATE = """
create or replace function chat.count_deleted_messages() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    update chat.conversations as c
    set messages_count = c.messages_count - removed.n,
        last_message_at = (select max(m.created_at) from chat.messages as m
                           where m.conversation_id = c.id)
    from (select conversation_id, count(*) as n from deleted_messages
          group by conversation_id) as removed
    where c.id = removed.conversation_id;
    return null;
end
$$
"""


async def test_a_read_inside_the_locking_update_would_miss_the_insert(tether_db, chat):
    """The same race as above against the tempting trigger (in this test's own
    database), and a plain DELETE that does not lock the conversation first as
    delete_message does: last_message_at falls back past the message that committed
    meanwhile."""
    await tether_db.pool.execute(READ_INSIDE_THE_UPDATE)
    messages = MessageRepository(tether_db)
    older = await messages.append(chat.id, "user", "older")
    newest = await messages.append(chat.id, "user", "newest")
    async with tether_db.connection() as deleter:
        async with tether_db.transaction() as inserter:
            late = await MessageRepository(inserter).append(chat.id, "assistant", "late")
            deleting = asyncio.create_task(
                deleter.execute("delete from chat.messages where id = $1", newest.id)
            )
            await asyncio.sleep(0.2)
        assert await deleting == "DELETE 1"
    assert await truth(tether_db, chat.id) == (2, late.created_at)
    assert await kept(tether_db, chat.id) == (2, older.created_at)  # wrong: late is missed


async def test_deleting_the_newest_while_an_insert_rolls_back_falls_back_to_the_one_before(
    tether_db, chat
):
    messages = MessageRepository(tether_db)
    older = await messages.append(chat.id, "user", "older")
    newest = await messages.append(chat.id, "user", "newest")
    async with tether_db.connection() as deleter, tether_db.connection() as inserter:
        transaction = inserter.transaction()
        await transaction.start()
        await MessageRepository(inserter).append(chat.id, "assistant", "never")
        deleting = asyncio.create_task(MessageRepository(deleter).delete(newest.id))
        await asyncio.sleep(0.2)
        await transaction.rollback()
        assert await deleting
    assert (
        await kept(tether_db, chat.id) == (1, older.created_at) == await truth(tether_db, chat.id)
    )


async def test_an_insert_waiting_on_a_delete_of_the_newest_lands_after_it(tether_db, chat):
    messages = MessageRepository(tether_db)
    older = await messages.append(chat.id, "user", "older")
    newest = await messages.append(chat.id, "user", "newest")
    async with tether_db.connection() as inserter:
        async with tether_db.transaction() as deleter:
            assert await MessageRepository(deleter).delete(newest.id)
            inserting = asyncio.create_task(
                MessageRepository(inserter).append(chat.id, "assistant", "waited")
            )
            await asyncio.sleep(0.2)
        waited = await inserting
    assert (
        await kept(tether_db, chat.id) == (2, waited.created_at) == await truth(tether_db, chat.id)
    )
    assert older.created_at < waited.created_at


async def test_two_deletes_of_the_two_newest_at_once_fall_back_twice(tether_db, chat):
    messages = MessageRepository(tether_db)
    made = [await messages.append(chat.id, "user", f"#{n}") for n in range(3)]
    async with tether_db.connection() as second:
        async with tether_db.transaction() as first:
            assert await MessageRepository(first).delete(made[2].id)
            other = asyncio.create_task(MessageRepository(second).delete(made[1].id))
            await asyncio.sleep(0.2)
        assert await other
    assert await kept(tether_db, chat.id) == (1, made[0].created_at)


async def test_appends_to_a_conversation_being_deleted_are_missing_references(tether_db, people):
    ada, _ = people
    conversations = ConversationRepository(tether_db)
    doomed = await conversations.create(ada.id, "doomed")
    survivor = await conversations.create(ada.id, "survivor")
    enough = asyncio.Event()
    refused: list[Exception] = []

    async def append(worker: int) -> None:
        messages = MessageRepository(tether_db)
        for n in range(APPENDS):
            await messages.append(survivor.id, "user", f"{worker}.{n}")
            try:
                await messages.append(doomed.id, "user", f"{worker}.{n}")
            except MissingReference as error:
                refused.append(error)
                return
            if n == 3:
                enough.set()

    async def delete() -> None:
        await enough.wait()
        assert await conversations.delete(doomed.id)

    await asyncio.gather(delete(), *(append(w) for w in range(6)))
    assert {e.constraint for e in refused} == {"messages_conversation_id_fkey"}
    assert (
        await tether_db.pool.fetchval(
            "select count(*) from chat.messages where conversation_id = $1", doomed.id
        )
        == 0
    )
    assert await kept(tether_db, survivor.id) == await truth(tether_db, survivor.id)
    assert await drift(tether_db) == []


async def test_a_copy_of_many_messages_updates_each_conversation_once(tether_db, people):
    ada, _ = people
    first = await ConversationRepository(tether_db).create(ada.id)
    second = await ConversationRepository(tether_db).create(ada.id)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        (target.id, "user", f"#{n}", start + dt.timedelta(seconds=n))
        for n in range(1000)
        for target in (first, second)
    ]
    async with (
        tether_db.connection() as conn,
        expect_changes(conn, inserted={"chat.messages": 2000}, updated={"chat.conversations": 2}),
    ):
        await conn.copy_records_to_table(
            "messages",
            schema_name="chat",
            columns=["conversation_id", "sender", "content", "created_at"],
            records=rows,
        )
    for conversation in (first, second):
        assert await kept(tether_db, conversation.id) == (1000, start + dt.timedelta(seconds=999))
    async with (
        tether_db.connection() as conn,
        expect_changes(conn, deleted={"chat.messages": 1500}, updated={"chat.conversations": 2}),
    ):
        await conn.execute(
            "delete from chat.messages where conversation_id = $1 or created_at >= $2",
            first.id,
            start + dt.timedelta(seconds=500),
        )
    assert await kept(tether_db, first.id) == (0, None)
    assert await kept(tether_db, second.id) == (500, start + dt.timedelta(seconds=499))
    assert await drift(tether_db) == []


async def test_truncate_empties_every_conversation(tether_db, chat):
    await MessageRepository(tether_db).append(chat.id, "user", "x")
    await tether_db.pool.execute("truncate chat.messages")
    assert await kept(tether_db, chat.id) == (0, None)


@pytest.mark.parametrize(
    "statement",
    [
        "update chat.conversations set messages_count = messages_count + 1 where id = $1",
        "update chat.conversations set last_message_at = now() where id = $1",
        "insert into chat.conversations (user_id, messages_count) "
        "select user_id, 3 from chat.conversations where id = $1",
    ],
)
async def test_no_one_else_writes_the_counters(tether_db, chat, statement):
    await MessageRepository(tether_db).append(chat.id, "user", "x")
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await tether_db.pool.execute(statement, chat.id)
    assert refused.value.constraint_name == "conversations_counters_kept"
    error = translate(refused.value, Q.rename_conversation)
    assert isinstance(error, InvalidValue) and error.table == "chat.conversations"
    assert "kept by the database" in str(error)
    assert await drift(tether_db) == []


async def test_writing_the_counters_unchanged_is_allowed(tether_db, chat):
    """An ORM that writes every column back changes nothing, and is let through."""
    await MessageRepository(tether_db).append(chat.id, "user", "x")
    await tether_db.pool.execute(
        "update chat.conversations set title = 'renamed', messages_count = messages_count, "
        "last_message_at = last_message_at where id = $1",
        chat.id,
    )
    assert (await ConversationRepository(tether_db).get(chat.id)).title == "renamed"
