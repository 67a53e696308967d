"""Lock order: every write takes the parent's row lock before the child's.

A trigger that keeps a parent (chat's counters, the tickets cycle check) locks the
parent's row after the child's; a statement that wrote the child first and the
parent second, next to a transaction that holds the parent and then wants the
child, is a deadlock (40P01) that PostgreSQL breaks after deadlock_timeout by
killing one of them. So each write of a child locks its parent first. Each test
plays the exact interleaving on two connections, then a mix of writers bounded in
time, and counts the rows left with its own SQL.
"""

import asyncio
import contextlib
import itertools
import random
import uuid
from collections import defaultdict
from pathlib import Path

import asyncpg
import attrs
import pytest

from tether.chat import ConversationRepository, MessageRepository
from tether.chat import UserRepository as ChatUsers
from tether.database import init_connection
from tether.errors import Conflict, InvalidValue, MissingReference, NotFound, Retryable
from tether.passwords import MIN_COST, hash_password
from tether.study import (
    ChatRepository,
    ChunkRepository,
    NewChunk,
    ProcessingStatus,
    ProfileRepository,
    TopicRepository,
)
from tether.study import DocumentRepository as StudyDocuments
from tether.study import MessageRepository as StudyMessages
from tether.study import SessionRepository as StudySessions
from tether.tickets import (
    AttachmentRepository,
    DependencyCycle,
    DependencyRepository,
    ErrorRepository,
    SessionRepository,
    TicketRepository,
)
from tether.tickets.records import NewTicket

pytestmark = pytest.mark.reliability

# Short, so that a deadlock shows in a second rather than hiding behind a wait.
DEADLOCK_TIMEOUT = "100ms"
# The mixes: this many writers for this long.
WRITERS, SECONDS = 8, 2.0


async def _connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url, server_settings={"deadlock_timeout": DEADLOCK_TIMEOUT})
    await init_connection(conn)  # tether's codecs: json, and pgvector's for COPY
    return conn


async def _until_waiting(sql, pid: int, task: asyncio.Task) -> None:
    """Return once the backend `pid` waits for a lock, or `task` is done (5 s at most)."""
    for _ in range(1000):
        if task.done() or await sql.fetchval(
            "select wait_event_type = 'Lock' from pg_stat_activity where pid = $1", pid
        ):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the second transaction neither waited nor finished")


async def _interleave(url: str, sql, first, others, then) -> None:
    """`first(a)` in transaction A; then transaction B runs each of `others(b)`, up
    to its first lock wait; then A runs `then(a)` and commits, and B goes on and
    commits. Neither may deadlock."""
    a, b = await _connect(url), await _connect(url)

    async def run_b() -> None:
        async with b.transaction():
            for step in others:
                await step(b)

    try:
        async with a.transaction():
            await first(a)
            b_run = asyncio.create_task(run_b())
            await _until_waiting(sql, b.get_server_pid(), b_run)
            await then(a)
        await b_run
    finally:
        await a.close()
        await b.close()


async def _mix(url: str, operation) -> None:
    """WRITERS writers for SECONDS, each on a connection of its own, calling
    `operation(conn, worker, rng, elapsed)` over and over; none may deadlock, and
    more than 50 operations must be done."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    done = 0
    deadlocks: list[str] = []

    async def writer(worker: int) -> None:
        nonlocal done
        rng = random.Random(worker)
        conn = await _connect(url)
        try:
            while (elapsed := loop.time() - start) < SECONDS:
                try:
                    await operation(conn, worker, rng, elapsed)
                    done += 1
                except Retryable as error:  # a deadlock (40P01), translated
                    deadlocks.append(str(error))
        finally:
            await conn.close()

    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    assert deadlocks == []
    assert done > 50


# ---------------------------------------------------------------- chat


async def _chat_conversation(db):
    ada = await ChatUsers(db).sign_in_oauth(
        "test", "ada", "ada@example.com", email_verified=False, name="Ada"
    )
    return await ConversationRepository(db).create(ada.id, "hot")


async def test_chat_append_then_delete_beside_a_lone_delete(tether_db, tether_url, sql):
    """The issue's case: the lone delete died with a deadlock after 1 s."""
    conversation = await _chat_conversation(tether_db)
    victim = await MessageRepository(tether_db).append(conversation.id, "user", "m")
    deleted = {}

    async def lone(conn):
        deleted["lone"] = await MessageRepository(conn).delete(victim.id)

    async def then(conn):
        deleted["tx"] = await MessageRepository(conn).delete(victim.id)

    await _interleave(
        tether_url,
        sql,
        lambda conn: MessageRepository(conn).append(conversation.id, "user", "appended"),
        [lone],
        then,
    )
    # The transaction deleted m and committed; the lone delete then found nothing.
    assert deleted == {"tx": True, "lone": False}
    row = await sql.fetchrow(
        "select messages_count, (select count(*) from chat.messages where conversation_id = $1)"
        " as n from chat.conversations where id = $1",
        conversation.id,
    )
    assert (row["messages_count"], row["n"]) == (1, 1)


async def test_chat_finish_then_append_beside_append_then_finish(tether_db, tether_url, sql):
    """A write of a message row (finish, append_chunk) locks its conversation first
    too: transaction A appends, then finishes m; transaction B finishes m, then
    appends (on today's main, B held m and A the conversation)."""
    conversation = await _chat_conversation(tether_db)
    streaming = await MessageRepository(tether_db).append(
        conversation.id, "assistant", "", status="streaming"
    )
    finished = {}

    async def b_finish(conn):
        finished["b"] = await MessageRepository(conn).finish(streaming.id, "failed")

    async def a_finish(conn):
        finished["a"] = await MessageRepository(conn).finish(streaming.id, "sent")

    await _interleave(
        tether_url,
        sql,
        lambda conn: MessageRepository(conn).append(conversation.id, "user", "question"),
        [b_finish, lambda conn: MessageRepository(conn).append(conversation.id, "user", "again")],
        a_finish,
    )
    # A finished m first; B found it finished and appended after A committed.
    assert finished["a"] is not None and finished["b"] is None
    rows = await sql.fetch(
        "select status, content from chat.messages where conversation_id = $1 order by created_at",
        conversation.id,
    )
    assert [(r["status"], r["content"]) for r in rows] == [
        ("sent", ""),
        ("sent", "question"),
        ("sent", "again"),
    ]


async def test_chat_writers_mixed_see_no_deadlock(tether_db, tether_url, sql):
    """8 writers for 2 s over 2 conversations: transactions that append, finish and
    delete in one conversation in random orders, beside lone deletes. No 40P01, and
    the counters equal count(*) at the end."""
    ada = await ChatUsers(tether_db).sign_in_oauth(
        "test", "ada", "ada@example.com", email_verified=False, name="Ada"
    )
    chats = [await ConversationRepository(tether_db).create(ada.id, t) for t in ("a", "b")]

    async def some_message(conn, conversation):
        return await conn.fetchval(
            "select id from chat.messages where conversation_id = $1 order by random() limit 1",
            conversation.id,
        )

    async def operation(conn, worker: int, rng: random.Random, elapsed: float) -> None:
        messages = MessageRepository(conn)
        # A request works on one conversation, in any order of steps.
        conversation = rng.choice(chats)
        if worker % 2:
            victim = await some_message(conn, conversation)
            if victim is not None:
                await messages.delete(victim)
            return
        async with conn.transaction():
            for _ in range(3):
                step = rng.random()
                if step < 0.4:
                    await messages.append(conversation.id, "user", "x", status="streaming")
                elif step < 0.7:
                    victim = await some_message(conn, conversation)
                    if victim is not None:
                        await messages.delete(victim)
                else:
                    victim = await some_message(conn, conversation)
                    if victim is not None:
                        await messages.finish(victim)

    await _mix(tether_url, operation)
    drifted = await sql.fetch(
        "select c.id from chat.conversations c where c.messages_count <> "
        "(select count(*) from chat.messages m where m.conversation_id = c.id)"
    )
    assert drifted == []


# ---------------------------------------------------------------- tickets
# The cycle check (a statement trigger on ticket_dependencies) updates the session's
# row after the insert locked the tickets (FOR KEY SHARE, as foreign keys do): so a
# write of a session's tickets, dependencies, attachments or errors locks the
# session's row first.


async def _tickets(db, count: int):
    session = await SessionRepository(db).create(title="graph")
    made = await TicketRepository(db).create_many(
        session.id, [NewTicket(f"T{n}", n) for n in range(count)]
    )
    return session, made


async def test_tickets_unlink_then_link_beside_a_lone_delete_of_the_ticket(
    tether_db, tether_url, sql
):
    """A transaction removes a dependency on a, a lone delete_ticket(a) runs (its
    cascade wants that dependency's row), the transaction adds another dependency on
    a (its foreign key wants a's row): on today's main, a deadlock."""
    session, (a, b, c) = await _tickets(tether_db, 3)
    await DependencyRepository(tether_db).add(b.id, a.id)
    deleted = {}

    async def lone(conn):
        deleted["lone"] = await TicketRepository(conn).delete(a.id)

    async def then(conn):
        await DependencyRepository(conn).add(c.id, a.id)

    await _interleave(
        tether_url, sql, lambda conn: DependencyRepository(conn).remove(b.id, a.id), [lone], then
    )
    # The transaction committed c -> a; then a went, and the dependency with it.
    assert deleted == {"lone": True}
    left = await sql.fetch(
        "select id from tickets.tickets where session_id = $1 order by position", session.id
    )
    assert [r["id"] for r in left] == [b.id, c.id]
    assert await sql.fetchval("select count(*) from tickets.ticket_dependencies") == 0


async def test_tickets_key_then_link_beside_a_lone_delete_of_the_ticket(tether_db, tether_url, sql):
    """set_jira_key, an attachment or an error about a ticket lock the session first
    too, or a lone delete_ticket that locked the session would wait on them while
    their transaction's next dependency waits on it."""
    session, (a, b, _) = await _tickets(tether_db, 3)

    async def first(conn):
        await TicketRepository(conn).set_jira_key(a.id, "PROJ-1")
        await AttachmentRepository(conn).attach(session.id, a.id, "a.png", "image/png", "/a")
        await ErrorRepository(conn).log(session.id, "parse", "bad", ticket_id=a.id)

    await _interleave(
        tether_url,
        sql,
        first,
        [lambda conn: TicketRepository(conn).delete(a.id)],
        lambda conn: DependencyRepository(conn).add(b.id, a.id),
    )
    assert await sql.fetchval("select count(*) from tickets.tickets where id = $1", a.id) == 0
    assert await sql.fetchval("select count(*) from tickets.attachments") == 0
    assert await sql.fetchval("select count(*) from tickets.ticket_dependencies") == 0
    assert await sql.fetchval("select related_ticket_id is null from tickets.session_errors")


async def _graph_step(conn, session_id, rng, x, y) -> None:
    """One write of a session's graph, in a savepoint: what a deleted ticket or a
    cycle refuses is expected, and leaves the transaction going."""
    step = rng.random()
    try:
        async with conn.transaction():
            if step < 0.4:
                await DependencyRepository(conn).add(x, y)
            elif step < 0.6:
                await DependencyRepository(conn).remove(x, y)
            elif step < 0.8:
                await TicketRepository(conn).set_jira_key(x, None)
            else:
                await ErrorRepository(conn).log(session_id, "e", "m", ticket_id=x)
    except (DependencyCycle, MissingReference, NotFound, Conflict):
        pass


async def test_tickets_writers_mixed_see_no_deadlock(tether_db, tether_url, sql):
    """8 writers for 2 s on one session's graph: transactions that link, unlink, key
    and annotate tickets in random orders, beside lone deletes of tickets. No 40P01;
    the graph holds no dependency on a deleted ticket and no cycle."""
    session, made = await _tickets(tether_db, 40)
    ids = [t.id for t in made]

    async def operation(conn, worker: int, rng: random.Random, elapsed: float) -> None:
        if worker % 4 == 3:
            await TicketRepository(conn).delete(rng.choice(ids))
            return
        async with conn.transaction():
            for _ in range(3):
                await _graph_step(conn, session.id, rng, *rng.sample(ids, 2))

    await _mix(tether_url, operation)
    dangling = await sql.fetchval(
        "select count(*) from tickets.ticket_dependencies d where not exists "
        "(select from tickets.tickets t where t.id in (d.ticket_id, d.depends_on_ticket_id))"
    )
    assert dangling == 0


# ---------------------------------------------------------------- study
# relate_chunk's trigger locks the topics a chunk names (FOR KEY SHARE) after the
# chunk's row; delete_topic's trigger rewrites the chunks naming the topic after
# the topic's row; a session's delete cascades to its chunks before its topics.
# So every one of them locks in one order: the session (FOR KEY SHARE; FOR UPDATE
# when it is deleted), then the topics in id order, then the chunks in id order.

# Chunks naming a topic that is not a topic of their session: always none.
STRAY_TOPICS = """
select count(*)
from study.document_chunks c, unnest(c.related_topic_ids) as r (topic_id)
where not exists (
    select 1 from study.topics t where t.id = r.topic_id and t.session_id = c.session_id
)
"""


async def _study(db, title: str, topics: int = 6, chunks: int = 12):
    """A session (of a profile of its own) with `topics` topics and one document of
    `chunks` chunks, chunk n naming topics n and n + 1."""
    owner = await ProfileRepository(db).create(
        f"{title}@example.com", hash_password("owner's password", cost=MIN_COST)
    )
    session = await StudySessions(db).create(owner.id, title)
    await StudySessions(db).set_draft_plan(
        session.id, {"topics": [{"title": f"topic {n}"} for n in range(topics)]}
    )
    made = [t.id for t in await TopicRepository(db).create_from_draft_plan(session.id)]
    document = await StudyDocuments(db).create(session.id, "a.md", "uploads/a.md")
    written = [
        NewChunk.parent(f"chunk {n}", None, [made[n % topics], made[(n + 1) % topics]])
        for n in range(chunks)
    ]
    await ChunkRepository(db).write(session.id, document.id, written)
    chunk_ids = await db.pool.fetch(
        "select id from study.document_chunks where session_id = $1 order by chunk_text",
        session.id,
    )
    return session.id, document.id, made, [r["id"] for r in chunk_ids]


async def _naming(sql, topic_id) -> int:
    return await sql.fetchval(
        "select count(*) from study.document_chunks where $1 = any(related_topic_ids)", topic_id
    )


async def test_study_relate_then_relate_beside_a_lone_delete_of_the_topic(
    tether_db, tether_url, sql
):
    """The issue's case: transaction A relates chunk 0 to the topics it names (0 and
    1), a lone delete_topic(1) runs (its trigger wants chunk 0's row), A relates chunk
    5 to topic 1 (its trigger wants topic 1's row): on main, a deadlock."""
    _, _, topics, chunks = await _study(tether_db, "relate")
    deleted = {}

    async def lone(conn):
        deleted["lone"] = await TopicRepository(conn).delete(topics[1])

    await _interleave(
        tether_url,
        sql,
        lambda conn: ChunkRepository(conn).relate(chunks[0], [topics[0], topics[1]]),
        [lone],
        lambda conn: ChunkRepository(conn).relate(chunks[5], [topics[1]]),
    )
    # A committed both; then topic 1 went, and left both chunks (and chunk 1).
    assert deleted == {"lone": True}
    assert await _naming(sql, topics[1]) == 0
    related = await sql.fetch(
        "select related_topic_ids from study.document_chunks where id = any($1)"
        " order by chunk_text",
        [chunks[0], chunks[5]],
    )
    assert [r["related_topic_ids"] for r in related] == [[topics[0]], []]
    assert await sql.fetchval(STRAY_TOPICS) == 0


async def test_study_delete_then_relate_beside_a_relate_to_the_deleted_topic(
    tether_db, tether_url, sql
):
    """The reverse: transaction A deletes topic 1 (its trigger rewrites chunks 0 and
    1); B relates chunk 5 to topics 5 and 1 (it names 5 and 0); A relates chunk 5. On
    main B held chunk 5 and waited for topic 1, A held topic 1 and waited for chunk 5.
    Now B waits for topic 1 before it touches chunk 5, A goes on, and B is told the
    topic is gone."""
    _, _, topics, chunks = await _study(tether_db, "reverse")
    refused = []

    async def b_relates(conn):
        try:
            async with conn.transaction():
                await ChunkRepository(conn).relate(chunks[5], [topics[5], topics[1]])
        except MissingReference as error:
            refused.append(error.constraint)

    await _interleave(
        tether_url,
        sql,
        lambda conn: TopicRepository(conn).delete(topics[1]),
        [b_relates],
        lambda conn: ChunkRepository(conn).relate(chunks[5], [topics[2]]),
    )
    assert refused == ["document_chunks_related_topics_fkey"]
    assert await sql.fetchval(
        "select related_topic_ids from study.document_chunks where id = $1", chunks[5]
    ) == [topics[2]]
    assert await _naming(sql, topics[1]) == 0
    assert await sql.fetchval(STRAY_TOPICS) == 0


async def test_study_relate_of_a_chunk_another_transaction_relates_beside_a_lone_delete(
    tether_db, tether_url, sql
):
    """The cycle the topic-first order alone leaves open: transaction A relates chunk
    0 to topic 2 too; transaction B relates chunk 0 and waits for A; A commits, and B
    holds chunk 0, which now names topic 2, read before A's change: B never locked
    topic 2. A lone delete_topic(2) takes the topic and waits for chunk 0; B relates
    chunk 5 to topic 2 and waits for the delete: a deadlock, unless the delete waits
    for B whole (the session's topic lock)."""
    _, _, topics, chunks = await _study(tether_db, "stale")
    a, b, lone = [await _connect(tether_url) for _ in range(3)]
    try:
        a_tx, b_tx = a.transaction(), b.transaction()
        await a_tx.start()
        await ChunkRepository(a).relate(chunks[0], [topics[0], topics[1], topics[2]])
        await b_tx.start()
        b_relates = asyncio.create_task(ChunkRepository(b).relate(chunks[0], [topics[0]]))
        await _until_waiting(sql, b.get_server_pid(), b_relates)
        await a_tx.commit()
        await b_relates
        deleting = asyncio.create_task(TopicRepository(lone).delete(topics[2]))
        await _until_waiting(sql, lone.get_server_pid(), deleting)
        await ChunkRepository(b).relate(chunks[5], [topics[2]])
        await b_tx.commit()
        assert await deleting
    finally:
        for conn in (a, b, lone):
            await conn.close()
    assert await _naming(sql, topics[2]) == 0
    assert await sql.fetchval(
        "select related_topic_ids from study.document_chunks where id = $1", chunks[0]
    ) == [topics[0]]
    assert await sql.fetchval(STRAY_TOPICS) == 0


@pytest.mark.parametrize("first_step", ["relate", "delete_topic"])
async def test_study_write_then_copy_beside_a_lone_delete_of_the_session(
    tether_db, tether_url, sql, first_step
):
    """Transaction A relates a chunk (or deletes a topic), a lone delete of the session
    runs (on main: the session's row, then its chunks, which wait for A), A copies a
    chunk in (its foreign key wants the session's row): on main, a deadlock. Now A
    holds the session FOR KEY SHARE first, and the delete waits for it whole."""
    session_id, document_id, topics, chunks = await _study(tether_db, "cascade")
    deleted = {}

    async def first(conn):
        if first_step == "relate":
            await ChunkRepository(conn).relate(chunks[0], [topics[3]])
        else:
            await TopicRepository(conn).delete(topics[3])

    async def lone(conn):
        deleted["session"] = await StudySessions(conn).delete(session_id)

    await _interleave(
        tether_url,
        sql,
        first,
        [lone],
        lambda conn: ChunkRepository(conn).write(
            session_id, document_id, [NewChunk.parent("late", None, [topics[4]])]
        ),
    )
    assert deleted == {"session": True}
    assert await sql.fetchval("select count(*) from study.document_chunks") == 0
    assert await sql.fetchval("select count(*) from study.topics") == 0


# What a transaction does first to topic T (topics[1]), its chat, the session's
# general chat or a second document (one chunk, naming topics 0 and T), before a lone
# delete of T or of the session, and then a relate of chunk 0. Each locks a row the
# delete waits for; on main none locked the session's row (nor the topic lock) first.
STUDY_FIRST_WRITES = {
    "complete_topic": lambda conn, w: TopicRepository(conn).complete(w.topic),
    "reorder_topics": lambda conn, w: TopicRepository(conn).reorder(w.session, w.topics[::-1]),
    "open_topic_chat": lambda conn, w: ChatRepository(conn).for_topic(w.topic),
    "open_new_topic_chat": lambda conn, w: ChatRepository(conn).for_topic(w.topic),
    "open_topic_chats": lambda conn, w: ChatRepository(conn).for_topics(w.session),
    "start_chat": lambda conn, w: ChatRepository(conn).start(w.topic_chat),
    "insert_message": lambda conn, w: StudyMessages(conn).append(w.topic_chat, "user", "q"),
    "delete_document_chunks": lambda conn, w: ChunkRepository(conn).delete_of_document(w.second),
    "delete_document": lambda conn, w: StudyDocuments(conn).delete(w.second),
    "open_general_chat": lambda conn, w: ChatRepository(conn).general(w.session),
    "set_document_text": lambda conn, w: StudyDocuments(conn).set_text(w.second, "text"),
    "set_processing_status": lambda conn, w: StudyDocuments(conn).set_status(
        w.second, ProcessingStatus.FAILED
    ),
}
# The last three touch nothing of a topic: only a session's delete waits for them.
SESSION_ONLY_WRITES = ("open_general_chat", "set_document_text", "set_processing_status")


@attrs.frozen
class StudyWorld:
    session: uuid.UUID
    topics: list[uuid.UUID]
    chunks: list[uuid.UUID]
    second: uuid.UUID
    topic_chat: uuid.UUID | None

    @property
    def topic(self) -> uuid.UUID:
        return self.topics[1]


async def _study_world(db, title: str, first_write: str) -> StudyWorld:
    """_study's session, its general chat (one message), T's chat (one message), and a
    second document of one chunk naming topics 0 and T. Before open_new_topic_chat T
    has no chat; before open_topic_chats every topic has one (a new chat's foreign key
    locks the session's row first: that path needs no fix)."""
    session_id, _, topics, chunks = await _study(db, title)
    general = await ChatRepository(db).general(session_id)
    await StudyMessages(db).append(general.id, "user", "hello")
    chat_id = None
    if first_write != "open_new_topic_chat":
        chat_id = (await ChatRepository(db).for_topic(topics[1])).id
        await StudyMessages(db).append(chat_id, "user", "about T")
    if first_write == "open_topic_chats":
        await ChatRepository(db).for_topics(session_id)
    second = await StudyDocuments(db).create(session_id, "b.md", "uploads/b.md")
    await ChunkRepository(db).write(
        session_id, second.id, [NewChunk.parent("second", None, [topics[0], topics[1]])]
    )
    return StudyWorld(session_id, topics, chunks, second.id, chat_id)


# The session's rows after the test, counted by kind.
STUDY_LEFT = """
select (select count(*) from study.topics where session_id = $1) as topics,
       (select count(*) from study.chats where session_id = $1) as chats,
       (select count(*) from study.messages m join study.chats c on c.id = m.chat_id
        where c.session_id = $1) as messages,
       (select count(*) from study.documents where session_id = $1) as documents,
       (select count(*) from study.document_chunks where session_id = $1) as chunks,
       (select order_index from study.topics where id = $2) as topic_0_place,
       (select related_topic_ids from study.document_chunks where id = $3) as chunk_0_topics
"""


@pytest.mark.parametrize(
    ("first_write", "lone_delete"),
    [(w, "topic") for w in STUDY_FIRST_WRITES if w not in SESSION_ONLY_WRITES]
    + [(w, "session") for w in STUDY_FIRST_WRITES if w != "open_new_topic_chat"],
)
async def test_study_write_then_relate_beside_a_lone_delete(
    tether_db, tether_url, sql, first_write, lone_delete
):
    """Transaction A writes topic T, its chat, a chat or a second document; a lone
    delete of T (the topic lock exclusive, then T, its chat, its messages and the
    chunks naming it) or of the session (its row FOR UPDATE, then every row under
    it) waits for what A holds; A relates chunk 0 (the session's row, then the topic
    lock): on main, a deadlock. Now A holds the session's row and the topic lock
    first, and the delete waits for A whole."""
    world = await _study_world(tether_db, "first", first_write)
    deleted = {}

    async def lone(conn):
        if lone_delete == "topic":
            deleted["lone"] = await TopicRepository(conn).delete(world.topic)
        else:
            deleted["lone"] = await StudySessions(conn).delete(world.session)

    await _interleave(
        tether_url,
        sql,
        lambda conn: STUDY_FIRST_WRITES[first_write](conn, world),
        [lone],
        lambda conn: ChunkRepository(conn).relate(world.chunks[0], [world.topics[0]]),
    )
    assert deleted == {"lone": True}
    left = dict(await sql.fetchrow(STUDY_LEFT, world.session, world.topics[0], world.chunks[0]))
    if lone_delete == "session":
        expected = dict.fromkeys(("topics", "chats", "messages", "documents", "chunks"), 0)
        assert left == {**expected, "topic_0_place": None, "chunk_0_topics": None}
        return
    # T, its chat and its message went; A's writes stayed, and chunk 0 names topic 0.
    expected = {
        "topics": 5,
        "chats": 1 + 5 * (first_write == "open_topic_chats"),
        "messages": 1,
        "documents": 2 - (first_write == "delete_document"),
        "chunks": 12 + (first_write not in ("delete_document", "delete_document_chunks")),
        "topic_0_place": 5 if first_write == "reorder_topics" else 0,
        "chunk_0_topics": [world.topics[0]],
    }
    assert left == expected
    assert await _naming(sql, world.topic) == 0
    assert await sql.fetchval(STRAY_TOPICS) == 0


async def _random_id(conn, table: str, session_id, where: str = "true"):
    return await conn.fetchval(
        f"select id from study.{table} where session_id = $1 and {where} order by random() limit 1",
        session_id,
    )


async def _replace_a_spare_document(conn, rng, session_id, topics) -> None:
    """delete_document of a spare document (its chunks go with it), and a new one
    with a chunk in its place."""
    spare = await _random_id(conn, "documents", session_id, "file_name = 'spare.md'")
    if spare is not None:
        await StudyDocuments(conn).delete(spare)
    made = await StudyDocuments(conn).create(session_id, "spare.md", "uploads/spare.md")
    chunk = NewChunk.parent(f"spare {rng.random()}", None, rng.sample(topics, 1))
    await ChunkRepository(conn).write(session_id, made.id, [chunk])


async def _study_first_write(conn, rng, world, topics) -> None:
    """One of the writes a topic's or the session's delete waits for (each path of
    STUDY_FIRST_WRITES), on a random topic, chat or the session's documents."""
    session_id, document_id, scratch = world
    step = rng.randrange(11)
    if step == 0:
        await TopicRepository(conn).complete(rng.choice(topics), rng.random() < 0.5)
    elif step == 1:
        await TopicRepository(conn).reorder(session_id, rng.sample(topics, len(topics)))
    elif step == 2:
        await ChatRepository(conn).for_topic(rng.choice(topics))
    elif step == 3:
        await ChatRepository(conn).for_topics(session_id)
    elif step in (4, 5):
        chat_id = await _random_id(conn, "chats", session_id)
        if chat_id is not None and step == 4:
            await ChatRepository(conn).start(chat_id)
        elif chat_id is not None:
            await StudyMessages(conn).append(chat_id, "user", "q")
    elif step == 6:
        await ChatRepository(conn).general(session_id)
    elif step == 7:
        await StudyDocuments(conn).set_text(document_id, f"text {rng.random()}")
    elif step == 8:
        await StudyDocuments(conn).set_status(document_id, ProcessingStatus.PROCESSING)
    elif step == 9:
        await ChunkRepository(conn).delete_of_document(scratch)
    else:
        await _replace_a_spare_document(conn, rng, session_id, topics)


async def _study_transaction(conn, rng, world) -> None:
    """A write of the session's topics, chats or documents (one: two of them in
    random orders would deadlock on their own), then 3 writes of its chunks: relates
    of the first document's chunks taken in id order (as two transactions that update
    the same rows must) and copies of new chunks into the scratch document, mixed.
    Each in a savepoint: what a topic, chat, chunk or session deleted meanwhile (or a
    reorder that raced a topic's delete) refuses leaves the transaction going."""
    session_id, document_id, scratch = world

    async def topics_now() -> list[uuid.UUID]:
        return [
            r["id"]
            for r in await conn.fetch(
                "select id from study.topics where session_id = $1 order by id", session_id
            )
        ]

    refused = (MissingReference, NotFound, InvalidValue, Conflict)
    with contextlib.suppress(*refused):
        async with conn.transaction():
            topics = await topics_now()
            if topics:
                await _study_first_write(conn, rng, world, topics)
    chunk_ids = sorted(
        r["id"]
        for r in await conn.fetch(
            "select id from study.document_chunks where session_id = $1 and document_id = $2"
            " order by random() limit 3",
            session_id,
            document_id,
        )
    )
    for chunk_id in chunk_ids:
        topics = await topics_now()
        named = rng.sample(topics, min(len(topics), rng.randint(1, 3)))
        with contextlib.suppress(*refused):
            async with conn.transaction():
                if rng.random() < 0.75:
                    await ChunkRepository(conn).relate(chunk_id, named)
                else:
                    chunk = NewChunk.parent(f"copied {rng.random()}", None, named)
                    await ChunkRepository(conn).write(session_id, scratch, [chunk])


async def _delete_a_topic(conn, rng, session_id, worker: int, serial: int) -> None:
    """A lone delete_topic, and a topic made in its place (raw SQL: the repository
    makes topics only from a draft plan)."""
    victim = await conn.fetchval(
        "select id from study.topics where session_id = $1 order by random() limit 1", session_id
    )
    if victim is not None:
        await TopicRepository(conn).delete(victim)
    with contextlib.suppress(asyncpg.ForeignKeyViolationError):  # the session is gone
        await conn.execute(
            "insert into study.topics (session_id, title, order_index) values ($1, 'again', $2)",
            session_id,
            1000 * (worker + 1) + serial,
        )


async def _study_mix_world(db, title: str):
    """_study's session (16 chunks), a scratch document and a spare one (a chunk each)."""
    session_id, document_id, topics, _ = await _study(db, title, chunks=16)
    scratch = await StudyDocuments(db).create(session_id, "scratch.md", "uploads/scratch.md")
    for made in (scratch, await StudyDocuments(db).create(session_id, "spare.md", "uploads/s")):
        await ChunkRepository(db).write(
            session_id, made.id, [NewChunk.parent("kept aside", None, [topics[0]])]
        )
    return session_id, document_id, scratch.id


async def test_study_writers_mixed_see_no_deadlock(tether_db, tether_url, sql):
    """8 writers for 2 s over two sessions: transactions that write a topic, a chat,
    a message or a document (each path of STUDY_FIRST_WRITES), then relate chunks and
    copy chunks in, beside lone topic deletes (each followed by a new topic); halfway,
    one of them deletes the second session whole. No 40P01; the second session left
    nothing; no chunk names a topic that is gone."""
    kept = await _study_mix_world(tether_db, "kept")
    doomed = await _study_mix_world(tether_db, "doomed")
    deletes = 0
    serials = defaultdict(itertools.count)  # each worker numbers the topics it makes

    async def operation(conn, worker: int, rng: random.Random, elapsed: float) -> None:
        nonlocal deletes
        world = rng.choice([kept, doomed])
        if worker == 7 and elapsed > SECONDS / 2 and not deletes:
            deletes += await StudySessions(conn).delete(doomed[0])
        elif worker >= 5:
            await _delete_a_topic(conn, rng, world[0], worker, next(serials[worker]))
        else:
            async with conn.transaction():
                await _study_transaction(conn, rng, world)

    await _mix(tether_url, operation)
    assert deletes == 1
    left = await sql.fetchrow(
        "select (select count(*) from study.document_chunks where session_id = $1) as chunks,"
        " (select count(*) from study.topics where session_id = $1) as topics,"
        " (select count(*) from study.chats where session_id = $1) as chats,"
        " (select count(*) from study.documents where session_id = $1) as documents,"
        " (select count(*) from study.messages m where not exists"
        "  (select from study.chats c where c.id = m.chat_id)) as orphan_messages",
        doomed[0],
    )
    assert dict(left) == {
        "chunks": 0,
        "topics": 0,
        "chats": 0,
        "documents": 0,
        "orphan_messages": 0,
    }
    assert await sql.fetchval(STRAY_TOPICS) == 0
    # The kept session's first document kept its 16 chunks (only relates touched them).
    assert (
        await sql.fetchval(
            "select count(*) from study.document_chunks where document_id = $1", kept[1]
        )
        == 16
    )


def test_the_docs_quote_this_test():
    """docs/guarantees.md, "Lock order": its figures are this file's."""
    text = (Path(__file__).parents[2] / "docs" / "guarantees.md").read_text()
    section = " ".join(text[text.index("## Lock order") :].split())
    figures = [f"{WRITERS} writers for {SECONDS:.0f} s", f"at {DEADLOCK_TIMEOUT[:-2]} ms"]
    assert [f for f in figures if f not in section] == []
