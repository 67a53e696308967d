"""The study domain's tenancy (SPEC "Tenancy"): a profile is the tenant, its sessions
stay together. Scoped to profile A (`db.tenant(a)`), every study table shows A's rows
only; B's rows cannot be read, changed, deleted or referenced (a related topic of a
chunk included); tether_service with no tenants sees none; the composite foreign keys
keep even a hand-written INSERT inside one profile. The rules kept by triggers hold
scoped: a chunk's related topics, a deleted topic leaving the chunks, status moves."""

from __future__ import annotations

import pytest
from attrs import define

from tenancy_checks import (
    assert_isolated,
    assert_tenant_tables,
    grants,
    hand_written,
    unscoped_service,
)
from tether import Database, MissingReference, NotFound, OutOfScope
from tether.study import (
    ChatRepository,
    ChunkRepository,
    DocumentRepository,
    MessageRepository,
    NewChunk,
    ProfileRepository,
    SessionRepository,
    SessionStatus,
    StatusMoveRefused,
    TopicRepository,
)
from tether.study.story import StudyStory, build_session
from tether.testing import expect_changes

TENANT_TABLES = {
    "profiles": "id",
    "study_sessions": "profile_id",
    "documents": "profile_id",
    "topics": "profile_id",
    "chats": "profile_id",
    "messages": "profile_id",
    "document_chunks": "profile_id",
}


@define
class Two:
    db: Database
    a: StudyStory
    b: StudyStory
    b_chat: object


async def with_chat(db: Database, story: StudyStory):
    chat = await ChatRepository(db).general(story.session.id)
    await MessageRepository(db).append(chat.id, "user", "What is a basis?")
    await ChatRepository(db).for_topic(story.topics[0].id)
    return chat


@pytest.fixture
async def two(tether_db: Database) -> Two:
    a = await build_session(tether_db)
    # The story's profile is always ada@example.com: give A's another address first.
    await tether_db.pool.execute(
        "update study.profiles set email = 'a@example.com' where id = $1", a.ada.id
    )
    b = await build_session(tether_db)
    await with_chat(tether_db, a)
    b_chat = await with_chat(tether_db, b)
    return Two(tether_db, a, b, b_chat.id)


async def test_every_table_is_a_tenant_table_with_only_the_grants_it_needs(tether_db):
    await assert_tenant_tables(tether_db, "study", TENANT_TABLES)
    every_dml = ["DELETE", "INSERT", "SELECT", "UPDATE"]
    assert await grants(tether_db, "study") == {
        "profiles": ["DELETE", "INSERT", "SELECT"],
        "study_sessions": every_dml,
        "documents": every_dml,
        "topics": every_dml,
        "chats": ["INSERT", "SELECT", "UPDATE"],
        "messages": ["INSERT", "SELECT"],
        "document_chunks": every_dml,
    }


async def test_scoped_to_a_profile_every_table_shows_exactly_its_rows(two):
    await assert_isolated(two.db, "study", TENANT_TABLES, two.a.ada.id, two.b.ada.id)


async def test_another_profiles_rows_cannot_be_read_changed_or_deleted(two):
    b = two.b
    async with two.db.tenant(two.a.ada.id) as conn:
        with pytest.raises(NotFound):
            await SessionRepository(conn).get(b.session.id)
        with pytest.raises(NotFound):
            await DocumentRepository(conn).get(b.documents[0].id)
        with pytest.raises(NotFound):
            await SessionRepository(conn).move(
                b.session.id, SessionStatus.ACTIVE, SessionStatus.COMPLETED
            )
        assert await TopicRepository(conn).of_session(b.session.id) == []
        assert await ChunkRepository(conn).of_document(b.documents[0].id) == []
        assert (await MessageRepository(conn).page_of_chat(two.b_chat)).items == ()
        # Sign-in looks a profile up by e-mail before any tenant is known: unscoped.
        assert await ProfileRepository(conn).find_by_email("ada@example.com") is None
        assert not await TopicRepository(conn).delete(b.topics[0].id)
        assert not await DocumentRepository(conn).delete(b.documents[0].id)
        assert not await SessionRepository(conn).delete(b.session.id)
        assert not await ProfileRepository(conn).delete(b.ada.id)
        done = await conn.execute(
            "update study.document_chunks set related_topic_ids = '{}' where profile_id = $1",
            b.ada.id,
        )
        assert done == "UPDATE 0"
    assert await ProfileRepository(two.db).find_by_email("ada@example.com") is not None
    async with two.db.connection() as conn:
        assert (
            await conn.fetchval(
                "select count(*) from study.document_chunks where profile_id = $1", b.ada.id
            )
            == b.chunks
        )
        assert (
            await conn.fetchval(
                "select status::text from study.study_sessions where id = $1", b.session.id
            )
            == "ACTIVE"
        )


async def test_another_profiles_rows_cannot_be_referenced(two):
    a, b = two.a, two.b
    async with two.db.tenant(a.ada.id) as conn:
        with pytest.raises(OutOfScope, match="row-level security"):
            await SessionRepository(conn).create(b.ada.id, "Intruder")
    refusals = [
        (
            lambda c: DocumentRepository(c).create(b.session.id, "x.md", "uploads/x.md"),
            "documents_session_id_fkey",
        ),
        (lambda c: MessageRepository(c).append(two.b_chat, "user", "hi"), "messages_chat_id_fkey"),
        (lambda c: ChatRepository(c).general(b.session.id), "chats_session_id_fkey"),
        (
            # A's own chunk related to B's topic: B's topics are not there to lock.
            lambda c: ChunkRepository(c).write(
                a.session.id,
                a.documents[0].id,
                [NewChunk("x", related_topic_ids=(b.topics[0].id,))],
            ),
            "document_chunks_related_topics_fkey",
        ),
    ]
    for write, constraint in refusals:
        async with two.db.tenant(a.ada.id) as conn:
            with pytest.raises(MissingReference) as refused:
                await write(conn)
            assert refused.value.constraint == constraint


async def test_tether_service_without_tenants_sees_no_rows(two):
    async with unscoped_service(two.db) as conn:
        for table in TENANT_TABLES:
            assert await conn.fetchval(f"select count(*) from study.{table}") == 0, table


async def test_a_hand_written_insert_cannot_point_into_another_profile(two):
    a, b = two.a, two.b
    b_parent = await two.db.pool.fetchval(
        "select id from study.document_chunks where profile_id = $1 and type = 'PARENT' limit 1",
        b.ada.id,
    )
    with pytest.raises(MissingReference, match="must") as refused:
        await hand_written(
            two.db.pool,
            "study",
            "insert into study.document_chunks "
            "(document_id, session_id, profile_id, parent_chunk_id, chunk_text, type) "
            "values ($1, $2, $3, $4, 'x', 'CHILD')",
            a.documents[0].id,
            a.session.id,
            a.ada.id,
            b_parent,
        )
    assert refused.value.constraint == "document_chunks_parent_chunk_id_fkey"
    with pytest.raises(MissingReference) as refused:
        await hand_written(
            two.db.pool,
            "study",
            "insert into study.messages (chat_id, profile_id, role, content) "
            "values ($1, $2, 'user', 'x')",
            two.b_chat,
            a.ada.id,
        )
    assert refused.value.constraint == "messages_chat_id_fkey"


async def test_an_insert_naming_only_the_spec_columns_gets_its_profile(two):
    a = two.a
    async with two.db.connection() as conn:
        document = await conn.fetchval(
            "insert into study.documents (session_id, file_name, file_path) "
            "values ($1, 'n.md', 'uploads/n.md') returning id",
            a.session.id,
        )
        topic = await conn.fetchval(
            "insert into study.topics (session_id, title, order_index) "
            "values ($1, 'New', 99) returning id",
            a.session.id,
        )
        chat = await conn.fetchval(
            "insert into study.chats (session_id, type, topic_id) "
            "values ($1, 'TOPIC', $2) returning id",
            a.session.id,
            topic,
        )
        message = await conn.fetchval(
            "insert into study.messages (chat_id, role, content) "
            "values ($1, 'user', 'q') returning id",
            chat,
        )
        chunk = await conn.fetchval(
            "insert into study.document_chunks (document_id, session_id, chunk_text, type) "
            "values ($1, $2, 'c', 'PARENT') returning id",
            document,
            a.session.id,
        )
        keys = [
            await conn.fetchval(f"select profile_id from study.{table} where id = $1", key)
            for table, key in (
                ("documents", document),
                ("topics", topic),
                ("chats", chat),
                ("messages", message),
                ("document_chunks", chunk),
            )
        ]
    assert keys == [a.ada.id] * 5


async def test_the_rules_kept_by_triggers_hold_scoped(two):
    a = two.a
    topic = a.topics[0].id
    async with two.db.connection() as conn:
        naming = await conn.fetchval(
            "select count(*) from study.document_chunks where $1 = any(related_topic_ids)", topic
        )
    assert naming > 0
    async with two.db.tenant(a.ada.id) as conn:
        written = await ChunkRepository(conn).write(
            a.session.id, a.documents[0].id, [NewChunk("scoped", related_topic_ids=(topic,))]
        )
        assert written == 1
        # Deleting the topic takes its id out of every chunk of the session (and its chat).
        assert await TopicRepository(conn).delete(topic)
    async with two.db.tenant(a.ada.id) as conn:
        with pytest.raises(StatusMoveRefused):
            await SessionRepository(conn).move(
                a.session.id, SessionStatus.ACTIVE, SessionStatus.UPLOADING
            )
    async with two.db.connection() as conn:
        assert (
            await conn.fetchval(
                "select count(*) from study.document_chunks where $1 = any(related_topic_ids)",
                topic,
            )
            == 0
        )
        assert (
            await conn.fetchval(
                "select count(*) from study.document_chunks where chunk_text = 'scoped' "
                "and profile_id = $1",
                a.ada.id,
            )
            == 1
        )


async def test_deleting_a_profile_removes_its_tree_scoped_and_unscoped(two):
    for story, scoped in ((two.a, True), (two.b, False)):
        tree = {
            "study.profiles": 1,
            "study.study_sessions": 1,
            "study.documents": len(story.documents),
            "study.topics": len(story.topics),
            "study.chats": 2,
            "study.messages": 1,
            "study.document_chunks": story.chunks,
        }
        scope = two.db.tenant(story.ada.id) if scoped else two.db.transaction()
        async with scope as conn, expect_changes(conn, deleted=tree):
            assert await ProfileRepository(conn).delete(story.ada.id)
    async with two.db.connection() as conn:
        for table in TENANT_TABLES:
            assert await conn.fetchval(f"select count(*) from study.{table}") == 0, table
