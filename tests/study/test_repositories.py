"""The study repositories against a real database: profiles, sessions and their status
moves (every pair of statuses, and compare-and-set races between connections),
documents, topics from a draft plan, reorder, chats and messages. Every refused write
is a tether error naming the table and the rule, with nothing written; every cascade
is counted by PostgreSQL. Chunks and retrieval are in test_chunks.py."""

import asyncio
import itertools
import uuid
from functools import partial

import asyncpg
import pytest

import domain_checks
from tether import Conflict, InvalidValue, MissingReference, NotFound, TetherError
from tether.study import (
    ChatRepository,
    ChatType,
    DocumentRepository,
    MessageRepository,
    ProcessingStatus,
    ProfileRepository,
    SessionRepository,
    SessionStatus,
    StatusChanged,
    StatusMoveRefused,
    TopicRepository,
)
from tether.study.story import EDITED_PLAN, build_session
from tether.testing import expect_changes

from .reliability import HASH

S = SessionStatus
MOVES = {
    (S.UPLOADING, S.GENERATING_PLAN),
    (S.GENERATING_PLAN, S.EDITING_PLAN),
    (S.EDITING_PLAN, S.CHUNKING),
    (S.CHUNKING, S.ACTIVE),
    (S.ACTIVE, S.COMPLETED),
    (S.EDITING_PLAN, S.GENERATING_PLAN),
    (S.COMPLETED, S.ACTIVE),
}
TABLES = (
    "profiles",
    "study_sessions",
    "documents",
    "topics",
    "chats",
    "messages",
    "document_chunks",
)


counts = partial(domain_checks.counts, schema="study")


@pytest.fixture
async def story(tether_db):
    """Ada's session as the demo builds it: ACTIVE, three documents, four topics from
    her edited plan, 17 chunks."""
    return await build_session(tether_db)


@pytest.fixture
async def profile(tether_db):
    return await ProfileRepository(tether_db).create("owner@example.com", HASH)


@pytest.fixture
async def session(tether_db, profile):
    return await SessionRepository(tether_db).create(profile.id, "Physics")


async def session_in(db, profile, status: SessionStatus) -> uuid.UUID:
    """A session put straight into `status` (an insert is not a move)."""
    return await db.pool.fetchval(
        "insert into study.study_sessions (profile_id, title, status) "
        "values ($1, 'placed', $2) returning id",
        profile.id,
        status,
    )


# -- profiles


async def test_emails_are_unique_whatever_their_case_and_never_echoed(tether_db):
    profiles = ProfileRepository(tether_db)
    ada = await profiles.create("Ada@Example.com", HASH)
    with pytest.raises(Conflict) as refused:
        await profiles.create("ada@EXAMPLE.com", HASH)
    assert (refused.value.table, refused.value.constraint) == (
        "study.profiles",
        "profiles_email_key",
    )
    assert "example" not in str(refused.value).lower()
    assert await profiles.find_by_email("ADA@example.COM") == ada
    assert await profiles.find_by_email("nobody@example.com") is None
    assert await profiles.get(ada.id) == ada
    with pytest.raises(NotFound, match=r"study\.profiles"):
        await profiles.get(uuid.uuid4())


async def test_the_password_hash_stays_out_of_the_repr(tether_db):
    ada = await ProfileRepository(tether_db).create("ada@example.com", HASH)
    assert ada.password_hash == HASH
    assert HASH not in repr(ada) and "password_hash" not in repr(ada)


async def test_bad_profiles_are_invalid_values(tether_db):
    for email, password_hash, constraint in [
        ("not-an-address", HASH, "profiles_email_check"),
        ("ok@example.com", "hunter2", "profiles_password_hash_check"),
        ("ok@example.com", "a hash with spaces in it", "profiles_password_hash_check"),
        ("ok@example.com", "x" * 256, "profiles_password_hash_check"),
        # Plaintexts of any length, which study_0001's printable-ASCII check let through.
        ("ok@example.com", "correct-horse-battery-staple", "profiles_password_hash_check"),
        ("ok@example.com", "hunter2" * 30, "profiles_password_hash_check"),
        ("ok@example.com", "$scrypt$hunter2hunter2hunter2", "profiles_password_hash_check"),
        ("ok@example.com", "$2b$12$" + "a" * 53, "profiles_password_hash_check"),
    ]:
        with pytest.raises(InvalidValue) as refused:
            await ProfileRepository(tether_db).create(email, password_hash)
        assert refused.value.constraint == constraint
        assert "hunter2" not in str(refused.value)
    assert (await counts(tether_db))["profiles"] == 0


async def test_deleting_a_profile_deletes_everything_of_it_and_nothing_else(story, tether_db):
    other = await ProfileRepository(tether_db).create("bob@example.com", HASH)
    await SessionRepository(tether_db).create(other.id, "Bob's session")
    chat = await ChatRepository(tether_db).general(story.session.id)
    await MessageRepository(tether_db).append(chat.id, "user", "hello")
    await ChatRepository(tether_db).for_topics(story.session.id)
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn,
            deleted={
                "study.profiles": 1,
                "study.study_sessions": 1,
                "study.documents": 3,
                "study.topics": 4,
                "study.chats": 5,
                "study.messages": 1,
                "study.document_chunks": 17,
            },
            updated={},
        ),
    ):
        assert await ProfileRepository(conn).delete(story.ada.id)
    assert await counts(tether_db) == dict.fromkeys(TABLES, 0) | {
        "profiles": 1,
        "study_sessions": 1,
    }
    assert not await ProfileRepository(tether_db).delete(story.ada.id)


# -- sessions


async def test_a_session_and_its_documents_in_one_round_trip(story, tether_db):
    async with tether_db.connection() as conn:
        sessions = SessionRepository(conn)
        await sessions.with_documents(story.session.id)  # asyncpg learns the row types
        sent = []

        def log(record):
            sent.append(record.query)

        conn.add_query_logger(log)
        whole = await sessions.with_documents(story.session.id)
        conn.remove_query_logger(log)
    assert len(sent) == 1
    assert whole.session == await SessionRepository(tether_db).get(story.session.id)
    assert (whole.session.status, whole.session.draft_plan) == ("ACTIVE", EDITED_PLAN)
    assert type(whole.session.status) is SessionStatus
    assert [d.file_name for d in whole.documents] == ["vectors.md", "matrices.md", "eigen.md"]
    assert [d.content_length for d in whole.documents] == [
        len(d.content_text) for d in story.documents
    ]
    assert all(d.processing_status == ProcessingStatus.COMPLETED for d in whole.documents)
    with pytest.raises(NotFound, match=r"study\.study_sessions"):
        await SessionRepository(tether_db).with_documents(uuid.uuid4())


async def test_a_session_without_documents_has_none(tether_db, session):
    whole = await SessionRepository(tether_db).with_documents(session.id)
    assert (whole.session, whole.documents) == (session, ())


async def test_a_profiles_sessions_page_newest_first(tether_db, profile):
    sessions = SessionRepository(tether_db)
    made = []
    for n in range(5):  # one transaction each: created_at differs, id breaks no tie
        made.append(await sessions.create(profile.id, f"Session {n}"))
    first = await sessions.page_of_profile(profile.id, limit=2)
    second = await sessions.page_of_profile(profile.id, limit=2, after=first.next)
    third = await sessions.page_of_profile(profile.id, limit=2, after=second.next)
    seen = [s.id for page in (first, second, third) for s in page]
    assert seen == [s.id for s in reversed(made)]
    assert third.next is None


async def test_a_status_moves_only_along_the_seeds_path(tether_db, profile):
    """Every ordered pair of statuses (30): the seed's 7 moves pass, the 23 others are
    refused by the database and leave the session where it was."""
    sessions = SessionRepository(tether_db)
    refused = 0
    for old, new in itertools.permutations(SessionStatus, 2):
        session_id = await session_in(tether_db, profile, old)
        if (old, new) in MOVES:
            assert (await sessions.move(session_id, old, new)).status == new
            continue
        with pytest.raises(StatusMoveRefused) as error:
            await sessions.move(session_id, old, new)
        assert isinstance(error.value, InvalidValue)
        assert error.value.table == "study.study_sessions"
        assert error.value.constraint == "study_sessions_status_move_check"
        assert (await sessions.get(session_id)).status == old
        refused += 1
    assert refused == 30 - len(MOVES) == 23


async def test_a_forbidden_move_is_refused_by_the_database_itself(tether_db, profile):
    session_id = await session_in(tether_db, profile, SessionStatus.UPLOADING)
    with pytest.raises(asyncpg.CheckViolationError, match="cannot move from UPLOADING to ACTIVE"):
        await tether_db.pool.execute(
            "update study.study_sessions set status = 'ACTIVE' where id = $1", session_id
        )


async def test_a_move_from_a_status_the_session_has_left_is_a_conflict(tether_db, session):
    sessions = SessionRepository(tether_db)
    await sessions.move(session.id, S.UPLOADING, S.GENERATING_PLAN)
    with pytest.raises(StatusChanged) as lost:
        await sessions.move(session.id, S.UPLOADING, S.GENERATING_PLAN)
    assert isinstance(lost.value, Conflict)
    assert lost.value.current == S.GENERATING_PLAN
    assert "the session is GENERATING_PLAN, not UPLOADING" in str(lost.value)
    with pytest.raises(NotFound):
        await sessions.move(uuid.uuid4(), S.UPLOADING, S.GENERATING_PLAN)
    with pytest.raises(InvalidValue, match=r"study \(move_session\): a value is not valid"):
        await sessions.move(session.id, "GENERATING_PLAN", "NOWHERE")


async def test_a_compare_and_set_waits_for_the_row_and_then_loses_clearly(tether_db, session):
    """One connection moves EDITING_PLAN -> CHUNKING and holds its transaction open; a
    second asks for EDITING_PLAN -> GENERATING_PLAN meanwhile. It waits for the row, then
    finds the session CHUNKING: a StatusChanged, not a silent no-op."""
    sessions = SessionRepository(tether_db)
    await sessions.move(session.id, S.UPLOADING, S.GENERATING_PLAN)
    await sessions.move(session.id, S.GENERATING_PLAN, S.EDITING_PLAN)
    async with tether_db.transaction() as first:
        await SessionRepository(first).move(session.id, S.EDITING_PLAN, S.CHUNKING)
        second = asyncio.ensure_future(sessions.move(session.id, S.EDITING_PLAN, S.GENERATING_PLAN))
        await asyncio.sleep(0.2)
        assert not second.done()  # waiting for the first's row lock
    with pytest.raises(StatusChanged) as lost:
        await second
    assert lost.value.current == S.CHUNKING
    assert (await sessions.get(session.id)).status == S.CHUNKING


async def test_racing_moves_from_one_status_one_wins(tether_db, profile):
    sessions = SessionRepository(tether_db)
    for _ in range(5):
        session_id = await session_in(tether_db, profile, S.EDITING_PLAN)
        outcomes = await asyncio.gather(
            *(
                sessions.move(session_id, S.EDITING_PLAN, target)
                for target in (S.CHUNKING, S.GENERATING_PLAN) * 3
            ),
            return_exceptions=True,
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(won) == 1 and len(lost) == 5
        assert all(isinstance(e, StatusChanged) and e.current == won[0].status for e in lost)
        assert (await sessions.get(session_id)).status == won[0].status


BAD_PLANS = [
    [],
    {},
    {"topics": {}},
    {"topics": ["Vectors"]},
    {"topics": [{"subtopics": []}]},
    {"topics": [{"title": 1}]},
    {"topics": [{"title": "Vectors", "subtopics": "length"}]},
    {"topics": [{"title": "Vectors", "subtopics": [1]}]},
    {"topics": [{"title": "Vectors", "subtopics": None}]},
]


async def test_a_draft_plan_has_the_shape_topics_are_made_from(tether_db, session):
    for plan in BAD_PLANS:
        with pytest.raises(InvalidValue) as refused:
            await SessionRepository(tether_db).set_draft_plan(session.id, plan)
        assert refused.value.constraint == "study_sessions_draft_plan_check", plan
    assert (await SessionRepository(tether_db).get(session.id)).draft_plan is None


async def test_a_draft_plan_is_stored_and_cleared_and_updated_at_follows(tether_db, session):
    sessions = SessionRepository(tether_db)
    plan = {"topics": [{"title": "Optics"}], "model": "any other key is kept"}
    stored = await sessions.set_draft_plan(session.id, plan)
    assert stored.draft_plan == plan
    assert stored.updated_at > session.updated_at
    assert (await sessions.set_draft_plan(session.id, None)).draft_plan is None
    with pytest.raises(NotFound):
        await sessions.set_draft_plan(uuid.uuid4(), plan)


async def test_sessions_of_missing_profiles_and_bad_titles_are_refused(tether_db, profile):
    sessions = SessionRepository(tether_db)
    with pytest.raises(MissingReference) as refused:
        await sessions.create(uuid.uuid4(), "Orphan")
    assert refused.value.constraint == "study_sessions_profile_id_fkey"
    for title in ("  ", "t" * 256):
        with pytest.raises(InvalidValue, match="study_sessions_title_check"):
            await sessions.create(profile.id, title)
    assert (await counts(tether_db))["study_sessions"] == 0


# -- documents


async def test_content_length_is_computed_by_the_database(tether_db, session):
    documents = DocumentRepository(tether_db)
    empty = await documents.create(session.id, "scan.pdf", "uploads/scan.pdf")
    assert (empty.content_text, empty.content_length) == (None, 0)
    text = "Ünïcödé counts characters, not bytes: ∑"
    filled = await documents.set_text(empty.id, text)
    assert (filled.content_length, filled.processing_status) == (len(text), "COMPLETED")
    failed = await documents.set_status(empty.id, ProcessingStatus.FAILED)
    assert (failed.content_length, failed.processing_status) == (len(text), "FAILED")
    assert (await documents.set_text(empty.id, None, "PENDING")).content_length == 0
    with pytest.raises(asyncpg.GeneratedAlwaysError):
        await tether_db.pool.execute(
            "update study.documents set content_length = 3 where id = $1", empty.id
        )
    with pytest.raises(NotFound):
        await documents.set_text(uuid.uuid4(), "text")


async def test_a_document_stays_in_its_session(tether_db, profile, session):
    documents = DocumentRepository(tether_db)
    with pytest.raises(MissingReference) as refused:
        await documents.create(uuid.uuid4(), "a.pdf", "uploads/a.pdf")
    assert refused.value.constraint == "documents_session_id_fkey"
    document = await documents.create(session.id, "a.pdf", "uploads/a.pdf")
    other = await SessionRepository(tether_db).create(profile.id, "Other")
    with pytest.raises(asyncpg.CheckViolationError) as moved:
        await tether_db.pool.execute(
            "update study.documents set session_id = $1 where id = $2", other.id, document.id
        )
    assert moved.value.constraint_name == "documents_session_fixed"
    with pytest.raises(InvalidValue, match="documents_file_name_check"):
        await documents.create(session.id, " ", "uploads/b.pdf")


async def test_deleting_a_document_deletes_its_chunks_only(story, tether_db):
    vectors = story.documents[0]
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn, deleted={"study.documents": 1, "study.document_chunks": 7}, updated={}
        ),
    ):
        assert await DocumentRepository(conn).delete(vectors.id)
    assert (await counts(tether_db))["document_chunks"] == 10


# -- topics


async def test_topics_come_from_the_draft_plan_in_one_call(story, tether_db):
    made = story.topics
    assert [(t.order_index, t.title, t.subtopics) for t in made] == [
        (0, "Vectors", ("length", "dot product")),
        (1, "Matrices", ("matrix times vector", "inverse")),
        (2, "Determinants", ("zero determinant",)),
        (3, "Eigenvalues", ("eigenvectors", "characteristic polynomial")),
    ]
    assert await TopicRepository(tether_db).of_session(story.session.id) == made
    with pytest.raises(Conflict) as again:
        await TopicRepository(tether_db).create_from_draft_plan(story.session.id)
    assert again.value.constraint == "topics_session_id_order_index_key"
    assert (await counts(tether_db))["topics"] == 4


async def test_topics_need_a_session_with_a_plan(tether_db, session):
    topics = TopicRepository(tether_db)
    with pytest.raises(NotFound, match=r"study\.study_sessions"):
        await topics.create_from_draft_plan(uuid.uuid4())
    with pytest.raises(InvalidValue, match="no draft plan"):
        await topics.create_from_draft_plan(session.id)


async def test_a_plan_with_one_bad_topic_makes_no_topic(tether_db, session):
    plan = {"topics": [{"title": "Fine"}, {"title": "t" * 300}]}
    await SessionRepository(tether_db).set_draft_plan(session.id, plan)
    with pytest.raises(InvalidValue) as refused:
        await TopicRepository(tether_db).create_from_draft_plan(session.id)
    assert refused.value.constraint == "topics_title_check"
    assert (await counts(tether_db))["topics"] == 0
    await SessionRepository(tether_db).set_draft_plan(session.id, {"topics": []})
    assert await TopicRepository(tether_db).create_from_draft_plan(session.id) == []


async def test_reorder_gives_every_topic_its_place_in_one_statement(story, tether_db):
    topics = TopicRepository(tether_db)
    vectors, matrices, determinants, eigen = story.topics
    moved = await topics.reorder(
        story.session.id, [eigen.id, vectors.id, determinants.id, matrices.id]
    )
    assert [(t.title, t.order_index) for t in moved] == [
        ("Eigenvalues", 0),
        ("Vectors", 1),
        ("Determinants", 2),
        ("Matrices", 3),
    ]
    assert await topics.of_session(story.session.id) == moved
    assert all(t.updated_at >= story.topics[0].updated_at for t in moved)


async def test_reorder_takes_each_topic_exactly_once_or_changes_nothing(story, tether_db):
    topics = TopicRepository(tether_db)
    v, m, d, e = (t.id for t in story.topics)
    for wrong in (
        [v, m, d],  # one left out
        [v, m, d, d],  # one twice
        [v, m, d, e, uuid.uuid4()],  # one too many
        [v, m, d, None],  # a NULL
    ):
        with pytest.raises(InvalidValue, match="each topic of the session exactly once"):
            await topics.reorder(story.session.id, wrong)
    assert await topics.of_session(story.session.id) == story.topics


async def test_topics_swap_places_in_a_transaction_with_the_check_deferred(story, tether_db):
    vectors, matrices = story.topics[:2]
    swap = "update study.topics set order_index = $1 where id = $2"
    with pytest.raises(asyncpg.UniqueViolationError):
        async with tether_db.transaction() as conn:
            await conn.execute(swap, 1, vectors.id)
    async with tether_db.transaction() as conn:
        await conn.execute("set constraints study.topics_session_id_order_index_key deferred")
        await conn.execute(swap, 1, vectors.id)
        await conn.execute(swap, 0, matrices.id)
    listed = await TopicRepository(tether_db).of_session(story.session.id)
    assert [t.title for t in listed[:2]] == ["Matrices", "Vectors"]


async def test_completing_a_topic(story, tether_db):
    topics = TopicRepository(tether_db)
    done = await topics.complete(story.topics[0].id)
    assert done.is_completed and done.updated_at >= story.topics[0].updated_at
    assert not (await topics.complete(done.id, completed=False)).is_completed
    with pytest.raises(NotFound, match=r"study\.topics"):
        await topics.complete(uuid.uuid4())


async def test_a_topic_stays_in_its_session(story, tether_db, profile):
    other = await SessionRepository(tether_db).create(profile.id, "Other")
    with pytest.raises(asyncpg.CheckViolationError) as moved:
        await tether_db.pool.execute(
            "update study.topics set session_id = $1 where id = $2", other.id, story.topics[0].id
        )
    assert moved.value.constraint_name == "topics_session_fixed"


async def test_deleting_a_topic_takes_its_chat_and_leaves_every_chunks_array(story, tether_db):
    matrices = story.topics[1]
    chat = await ChatRepository(tether_db).for_topic(matrices.id)
    await MessageRepository(tether_db).append(chat.id, "user", "What is an inverse?")
    naming = "select count(*) from study.document_chunks where $1 = any(related_topic_ids)"
    assert await tether_db.pool.fetchval(naming, matrices.id) == 9
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn,
            deleted={"study.topics": 1, "study.chats": 1, "study.messages": 1},
            updated={"study.document_chunks": 9},
        ),
    ):
        assert await TopicRepository(conn).delete(matrices.id)
    assert await tether_db.pool.fetchval(naming, matrices.id) == 0
    # The other topics stay, in the order each array had them.
    kept = await tether_db.pool.fetchval(
        "select count(*) from study.document_chunks where related_topic_ids && $1",
        [t.id for t in story.topics if t is not matrices],
    )
    assert kept > 0
    assert not await TopicRepository(tether_db).delete(matrices.id)


# -- chats and messages


async def test_one_general_chat_per_session_even_when_asked_at_once(tether_db, session):
    chats = ChatRepository(tether_db)
    opened = await asyncio.gather(*(chats.general(session.id) for _ in range(8)))
    assert len({chat.id for chat in opened}) == 1
    assert opened[0].type == ChatType.GENERAL and opened[0].topic_id is None
    assert (await counts(tether_db))["chats"] == 1
    with pytest.raises(asyncpg.UniqueViolationError) as twice:
        await tether_db.pool.execute(
            "insert into study.chats (session_id, type) values ($1, 'GENERAL')", session.id
        )
    assert twice.value.constraint_name == "chats_session_id_topic_id_key"
    with pytest.raises(MissingReference) as orphan:
        await chats.general(uuid.uuid4())
    assert orphan.value.constraint == "chats_session_id_fkey"


async def test_one_chat_per_topic_in_topic_order(story, tether_db):
    chats = ChatRepository(tether_db)
    first = await chats.for_topics(story.session.id)
    again = await chats.for_topics(story.session.id)
    assert [c.topic_id for c in first] == [t.id for t in story.topics]
    assert [c.id for c in again] == [c.id for c in first]
    assert (await chats.for_topic(story.topics[2].id)).id == first[2].id
    with pytest.raises(NotFound, match=r"study\.topics"):
        await chats.for_topic(uuid.uuid4())
    general = await chats.general(story.session.id)
    assert [c.id for c in await chats.of_session(story.session.id)] == [
        general.id,
        *(c.id for c in first),
    ]
    started = await chats.start(general.id)
    assert started.is_started and started.updated_at >= general.updated_at


async def test_a_topic_chat_has_a_topic_of_its_own_session(story, tether_db, profile):
    other = await SessionRepository(tether_db).create(profile.id, "Other")
    insert = "insert into study.chats (session_id, type, topic_id) values ($1, $2, $3)"
    with pytest.raises(asyncpg.ForeignKeyViolationError) as elsewhere:
        await tether_db.pool.execute(insert, other.id, "TOPIC", story.topics[0].id)
    assert elsewhere.value.constraint_name == "chats_topic_id_fkey"
    for kind, topic in (("TOPIC", None), ("GENERAL", story.topics[0].id)):
        with pytest.raises(asyncpg.CheckViolationError) as wrong:
            await tether_db.pool.execute(insert, story.session.id, kind, topic)
        assert wrong.value.constraint_name == "chats_type_check"


async def test_messages_in_the_order_they_were_written(tether_db, session):
    chat = await ChatRepository(tether_db).general(session.id)
    messages = MessageRepository(tether_db)
    async with tether_db.transaction() as conn:  # one created_at for all: seq orders them
        written = [
            await MessageRepository(conn).append(chat.id, role, f"message {n}")
            for n, role in enumerate(["system", "user", "assistant"] * 3)
        ]
    assert len({m.created_at for m in written}) == 1
    first = await messages.page_of_chat(chat.id, limit=4)
    rest = await messages.page_of_chat(chat.id, limit=50, after=first.next)
    assert [m.content for m in [*first, *rest]] == [f"message {n}" for n in range(9)]
    assert rest.next is None
    with pytest.raises(InvalidValue) as refused:
        await messages.append(chat.id, "bot", "hello")
    assert refused.value.constraint == "messages_role_check"
    with pytest.raises(MissingReference):
        await messages.append(uuid.uuid4(), "user", "hello")


async def test_repositories_join_the_callers_transaction(story, tether_db):
    before = await counts(tether_db)

    async def change_of_mind():
        async with tether_db.transaction() as conn:
            await SessionRepository(conn).create(story.ada.id, "Abandoned")
            await TopicRepository(conn).delete(story.topics[0].id)
            await SessionRepository(conn).move(story.session.id, S.ACTIVE, S.COMPLETED)
            raise RuntimeError("the caller changes its mind")

    with pytest.raises(RuntimeError):
        await change_of_mind()
    assert await counts(tether_db) == before
    assert (await SessionRepository(tether_db).get(story.session.id)).status == S.ACTIVE


async def test_every_refusal_is_a_tether_error_naming_its_table(story, tether_db):
    with pytest.raises(TetherError) as refused:
        await TopicRepository(tether_db).reorder(story.session.id, ["not a uuid"])
    assert "not a uuid" not in str(refused.value)
