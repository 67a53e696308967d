"""Chunks and retrieval against a real database: binary COPY with numpy in and out,
every rule on parents and related topics (and the topic-delete race between
connections), exact neighbours on a small set, the HNSW index on the unfiltered
path, and k rows at 0.1 %, 1 %, 10 % and 100 % selectivity."""

import asyncio
import os
import uuid
from contextlib import aclosing

import asyncpg
import numpy as np
import pytest

from tether import Database, InvalidValue, MissingReference, Retryable, TetherError, admin
from tether.study import (
    ChunkRepository,
    ChunkType,
    DocumentRepository,
    NewChunk,
    ProfileRepository,
    SessionRepository,
    TopicRepository,
)
from tether.study.embedding import embed, synthetic
from tether.study.story import build_session
from tether.testing import expect_changes

from .reliability import HASH

NAMING = "select count(*) from study.document_chunks where $1 = any(related_topic_ids)"
# Chunks naming a topic that is not a topic of their session: always none.
STRAYS = """
select count(*)
from study.document_chunks c, unnest(c.related_topic_ids) as r (topic_id)
where not exists (
    select 1 from study.topics t where t.id = r.topic_id and t.session_id = c.session_id
)
"""


@pytest.fixture
async def story(tether_db):
    return await build_session(tether_db)


async def empty_document(db, profile_id):
    session = await SessionRepository(db).create(profile_id, "Another")
    document = await DocumentRepository(db).create(session.id, "b.md", "uploads/b.md")
    return session.id, document.id


async def chunk_count(db) -> int:
    return await db.pool.fetchval("select count(*) from study.document_chunks")


# -- writing and reading


async def test_chunks_go_in_and_come_out_as_numpy_arrays(story, tether_db):
    vectors = story.documents[0]
    read = await ChunkRepository(tether_db).of_document(vectors.id)
    assert [c.type for c in read] == [ChunkType.PARENT] * 2 + [ChunkType.CHILD] * 5
    parents = {c.id for c in read if c.type == ChunkType.PARENT}
    for chunk in read:
        if chunk.type == ChunkType.PARENT:
            assert (chunk.parent_chunk_id, chunk.embedding) == (None, None)
        else:
            assert chunk.parent_chunk_id in parents
            assert isinstance(chunk.embedding, np.ndarray)
            assert chunk.embedding.dtype == np.float32 and chunk.embedding.shape == (768,)
            np.testing.assert_array_equal(chunk.embedding, embed(chunk.chunk_text))
    assert "embedding" not in repr(read[-1])
    vectors_topic = story.topics[0]
    assert all(vectors_topic.id in c.related_topic_ids for c in read if "vector" in c.chunk_text)


async def test_a_session_streams_its_chunks(story, tether_db):
    async with aclosing(ChunkRepository(tether_db).stream(story.session.id, prefetch=4)) as rows:
        streamed = [chunk async for chunk in rows]
    assert len(streamed) == story.chunks == 17
    assert {c.document_id for c in streamed} == {d.id for d in story.documents}


async def test_a_refused_chunk_refuses_the_whole_copy(story, tether_db):
    session_id, document_id = story.session.id, story.documents[0].id
    good = NewChunk.parent("fine", embed("fine"))
    bad = NewChunk.parent("zero", np.zeros(768, dtype=np.float32))
    with pytest.raises(InvalidValue) as refused:
        await ChunkRepository(tether_db).write(session_id, document_id, [good, bad])
    assert refused.value.table == "study.document_chunks"
    assert refused.value.constraint == "document_chunks_embedding_check"
    assert await chunk_count(tether_db) == 17


@pytest.mark.parametrize(
    ("embedding", "says"),
    [
        (np.ones(3, dtype=np.float32), "holds 768 numbers"),
        (np.ones((2, 768), dtype=np.float32), "1-D numpy array"),
        ([0.1] * 768, "1-D numpy array, not list"),
        (np.full(768, np.nan, dtype=np.float32), "finite numbers only"),
        (np.array(["x"] * 768), "holds 768 numbers"),
    ],
)
def test_an_embedding_is_768_finite_numbers(embedding, says):
    with pytest.raises(InvalidValue, match=says) as refused:
        NewChunk.parent("text", embedding)
    assert refused.value.table == "study.document_chunks"


def test_new_chunks_are_typed():
    with pytest.raises(InvalidValue, match="chunk_text must be str, not list"):
        NewChunk(["a"])
    with pytest.raises(InvalidValue, match="related_topic_ids holds topic ids"):
        NewChunk("a", related_topic_ids=["not-a-uuid"])
    with pytest.raises(InvalidValue, match="parent_chunk_id must be UUID"):
        NewChunk("a", type=ChunkType.CHILD, parent_chunk_id="x")
    parent = NewChunk.parent("p")
    assert NewChunk.child(parent, "c").parent_chunk_id == parent.id


async def test_parents_and_children_follow_the_rules(story, tether_db):
    chunks = ChunkRepository(tether_db)
    session_id, vectors, matrices = story.session.id, story.documents[0], story.documents[1]
    parent = NewChunk.parent("a parent")
    child = NewChunk.child(parent, "a child")
    await chunks.write(session_id, vectors.id, [child, parent])  # order within a COPY is free
    cases = [
        # a CHILD under a CHILD
        ([NewChunk.child(child, "grandchild")], "document_chunks_parent_check"),
        # a CHILD under a PARENT of another document
        ([NewChunk.child(parent, "elsewhere")], "document_chunks_parent_check"),
        # a PARENT with a parent, a CHILD without one
        (
            [NewChunk("p", type=ChunkType.PARENT, parent_chunk_id=parent.id)],
            "document_chunks_type_check",
        ),
        ([NewChunk("c", type=ChunkType.CHILD)], "document_chunks_type_check"),
        ([NewChunk.parent("   ")], "document_chunks_chunk_text_check"),
    ]
    for chunk_list, constraint in cases:
        document = matrices if "elsewhere" in chunk_list[0].chunk_text else vectors
        with pytest.raises(InvalidValue) as refused:
            await chunks.write(session_id, document.id, chunk_list)
        assert refused.value.constraint == constraint, chunk_list
    with pytest.raises(MissingReference) as missing:
        await chunks.write(session_id, vectors.id, [NewChunk.child(NewChunk.parent("x"), "y")])
    assert missing.value.constraint == "document_chunks_parent_chunk_id_fkey"
    assert await chunk_count(tether_db) == 19


async def test_a_chunk_lives_in_its_documents_session(story, tether_db):
    other_session, other_document = await empty_document(tether_db, story.ada.id)
    with pytest.raises(MissingReference) as refused:
        await ChunkRepository(tether_db).write(
            other_session, story.documents[0].id, [NewChunk.parent("misplaced")]
        )
    assert refused.value.constraint == "document_chunks_document_id_fkey"
    assert "belong to the chunk's session" in str(refused.value)
    chunk_id = (await ChunkRepository(tether_db).of_document(story.documents[0].id))[0].id
    for column, value in (
        ("session_id", other_session),
        ("document_id", other_document),
        ("type", "CHILD"),
    ):
        with pytest.raises(asyncpg.CheckViolationError) as moved:
            await tether_db.pool.execute(
                f"update study.document_chunks set {column} = $1 where id = $2", value, chunk_id
            )
        assert moved.value.constraint_name == "document_chunks_place_fixed"


async def test_related_topics_are_topics_of_the_chunks_session(story, tether_db):
    chunks = ChunkRepository(tether_db)
    other_session, other_document = await empty_document(tether_db, story.ada.id)
    foreign = story.topics[0].id
    for topic_id in (foreign, uuid.uuid4()):
        with pytest.raises(MissingReference) as refused:
            await chunks.write(
                other_session, other_document, [NewChunk.parent("x", related_topic_ids=[topic_id])]
            )
        assert refused.value.table == "study.document_chunks"
        assert refused.value.constraint == "document_chunks_related_topics_fkey"
    # Updating the array is held to the same rule; taking ids out needs no check.
    [chunk, *_] = await chunks.of_document(story.documents[0].id)
    with pytest.raises(MissingReference, match="topic of the chunk's session"):
        await chunks.relate(chunk.id, [*chunk.related_topic_ids, uuid.uuid4()])
    related = await chunks.relate(chunk.id, [story.topics[3].id, story.topics[0].id])
    assert related.related_topic_ids == (story.topics[3].id, story.topics[0].id)
    assert (await chunks.relate(chunk.id, [])).related_topic_ids == ()
    with pytest.raises(asyncpg.CheckViolationError) as null:
        await tether_db.pool.execute(
            "update study.document_chunks set related_topic_ids = array[null]::uuid[] "
            "where id = $1",
            chunk.id,
        )
    assert null.value.constraint_name == "document_chunks_related_topic_ids_check"
    assert await tether_db.pool.fetchval(STRAYS) == 0


async def test_deleting_a_parent_or_a_documents_chunks(story, tether_db):
    chunks = ChunkRepository(tether_db)
    vectors = story.documents[0]
    first_parent = next(
        c for c in await chunks.of_document(vectors.id) if c.chunk_text.startswith("A vector has")
    )  # a paragraph of three sentences: itself and three children
    async with (
        tether_db.connection() as conn,
        expect_changes(conn, deleted={"study.document_chunks": 4}, updated={}),
    ):
        await conn.execute("delete from study.document_chunks where id = $1", first_parent.id)
    assert await chunks.delete_of_document(vectors.id) == 3
    assert await chunks.of_document(vectors.id) == []
    assert await chunk_count(tether_db) == 10


# -- a topic deleted while chunks are written


async def test_a_chunk_written_while_its_topic_is_deleted_loses_the_topic(story, tether_db):
    """The writer locks the topic (FOR KEY SHARE) and keeps its transaction open; the
    deletion waits for it, then its own statement removes the id from the new chunk."""
    eigen = story.topics[3]
    async with tether_db.transaction() as writer:
        await ChunkRepository(writer).write(
            story.session.id,
            story.documents[2].id,
            [NewChunk.parent("late eigen chunk", embed("eigen"), [eigen.id])],
        )
        deleting = asyncio.ensure_future(TopicRepository(tether_db).delete(eigen.id))
        await asyncio.sleep(0.3)
        assert not deleting.done()  # waiting for the writer
    assert await deleting
    assert await tether_db.pool.fetchval(NAMING, eigen.id) == 0
    assert await tether_db.pool.fetchval(STRAYS) == 0
    assert await chunk_count(tether_db) == 18


async def test_a_chunk_naming_a_topic_being_deleted_is_refused(story, tether_db):
    """The deletion holds the topic; the writer waits for it, then finds it gone."""
    eigen = story.topics[3]
    async with tether_db.transaction() as deleter:
        assert await TopicRepository(deleter).delete(eigen.id)
        writing = asyncio.ensure_future(
            ChunkRepository(tether_db).write(
                story.session.id,
                story.documents[2].id,
                [NewChunk.parent("too late", embed("eigen"), [eigen.id])],
            )
        )
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting for the deleter
    with pytest.raises(MissingReference) as refused:
        await writing
    assert refused.value.constraint == "document_chunks_related_topics_fkey"
    assert await chunk_count(tether_db) == 17
    assert await tether_db.pool.fetchval(STRAYS) == 0


@pytest.mark.parametrize("isolation", ["read_committed", "serializable"])
async def test_many_writers_and_a_deleter_leave_no_stray_topic(story, tether_db, isolation):
    """Writers tag new chunks with every topic while the topics are deleted one by one:
    whatever interleaving, no chunk names a topic that is gone. Under SERIALIZABLE a
    writer may be told to retry (Retryable) instead of waiting."""
    session_id, document_id = story.session.id, story.documents[0].id
    topic_ids = [t.id for t in story.topics]
    outcomes: list[str] = []
    gone = asyncio.Event()

    async def write(n: int) -> None:
        for round_ in range(200):  # until every topic is gone (bounded)
            if gone.is_set():
                return
            chunk = NewChunk.parent(f"chunk {n}.{round_}", embed(f"chunk {n}"), topic_ids)
            try:
                async with tether_db.transaction(isolation=isolation) as conn:
                    await ChunkRepository(conn).write(session_id, document_id, [chunk])
                outcomes.append("written")
            except (MissingReference, Retryable) as error:
                outcomes.append(type(error).__name__)

    async def delete() -> None:
        await asyncio.sleep(0.05)
        for topic_id in topic_ids:
            while True:
                try:
                    async with tether_db.transaction(isolation=isolation) as conn:
                        assert await TopicRepository(conn).delete(topic_id)
                    break
                except Retryable:
                    continue
            await asyncio.sleep(0.02)
        gone.set()

    await asyncio.gather(delete(), *(write(n) for n in range(6)))
    assert await tether_db.pool.fetchval("select count(*) from study.topics") == 0
    assert await tether_db.pool.fetchval(STRAYS) == 0
    assert (
        await tether_db.pool.fetchval(
            "select count(*) from study.document_chunks where related_topic_ids <> '{}'"
        )
        == 0
    )
    assert set(outcomes) <= {"written", "MissingReference", "Retryable"}
    assert "written" in outcomes and ("MissingReference" in outcomes or "Retryable" in outcomes)


async def test_a_topic_is_not_deleted_under_repeatable_read(story, tether_db):
    """A REPEATABLE READ snapshot cannot see a chunk committed after it began, so it
    could not take the topic out of that chunk: the database refuses the deletion."""
    with pytest.raises(TetherError) as refused:
        async with tether_db.transaction(isolation="repeatable_read") as conn:
            await TopicRepository(conn).delete(story.topics[0].id)
    assert refused.value.table == "study.topics"
    assert refused.value.constraint == "topics_delete_isolation_check"
    assert "READ COMMITTED or SERIALIZABLE" in str(refused.value)
    # Its whole session goes, chunks and all: nothing to take out of any array.
    async with tether_db.transaction(isolation="repeatable_read") as conn:
        assert await SessionRepository(conn).delete(story.session.id)
    assert await chunk_count(tether_db) == 0


# -- retrieval


async def test_the_nearest_chunks_with_their_parents(story, tether_db):
    found = await ChunkRepository(tether_db).search(
        story.session.id, embed("What is the length of a vector?"), k=3
    )
    assert found.complete and len(found.hits) == 3
    first = found.hits[0]
    assert first.type == ChunkType.CHILD and "length" in first.chunk_text
    assert first.parent_text is not None and first.chunk_text in first.parent_text
    assert first.context == first.parent_text
    assert [h.distance for h in found.hits] == sorted(h.distance for h in found.hits)
    assert found.contexts()[0] == first.parent_text
    assert len(found.contexts()) == len({h.parent_id for h in found.hits})


async def test_exact_neighbours_on_a_small_set(tether_db):
    """40 chunks: the search returns exactly numpy's nearest, in order, with numpy's
    cosine distances."""
    profile = await ProfileRepository(tether_db).create("n@example.com", HASH)
    session_id, document_id = await empty_document(tether_db, profile.id)
    vectors = synthetic(40, seed=3)
    chunks = [NewChunk.parent(f"chunk {i}", v) for i, v in enumerate(vectors)]
    await ChunkRepository(tether_db).write(session_id, document_id, chunks)
    for query in synthetic(5, seed=4):
        found = await ChunkRepository(tether_db).search(session_id, query, k=7)
        distances = 1 - vectors @ query
        expected = np.argsort(distances, kind="stable")[:7]
        assert [h.chunk_text for h in found.hits] == [f"chunk {i}" for i in expected]
        np.testing.assert_allclose([h.distance for h in found.hits], distances[expected], atol=1e-5)


async def test_fewer_than_k_says_so(story, tether_db):
    chunks = ChunkRepository(tether_db)
    determinants = story.topics[2]
    related = await tether_db.pool.fetchval(
        "select count(*) from study.document_chunks where $1 = any(related_topic_ids) "
        "and embedding is not null",
        determinants.id,
    )
    found = await chunks.search(
        story.session.id, embed("determinant"), k=10, topic_ids=[determinants.id]
    )
    assert (len(found.hits), found.complete, found.method) == (related, False, "exact")
    assert all(determinants.id in h.related_topic_ids for h in found.hits)
    nothing = await chunks.search(uuid.uuid4(), embed("anything"), k=3)
    assert (nothing.hits, nothing.complete) == ((), False)


async def test_search_arguments_are_checked(story, tether_db):
    chunks = ChunkRepository(tether_db)
    for k in (0, 1001, True, "3"):
        with pytest.raises(InvalidValue, match="k is between 1 and 1000"):
            await chunks.search(story.session.id, embed("x"), k=k)
    with pytest.raises(InvalidValue, match="zero vector"):
        await chunks.search(story.session.id, np.zeros(768, dtype=np.float32))
    with pytest.raises(InvalidValue, match="holds 768 numbers"):
        await chunks.search(story.session.id, np.ones(5))


# A shared table: one big session (99 % of the rows) tagged with topics that select
# 10 %, 1 % and 0.1 % of the table, and a small session of 1 %.
ROWS = 4000
K = 4  # so that 0.1 % (4 chunks) still holds k
SHARES = {"10%": 400, "1%": 40, "0.1%": 4}


@pytest.fixture(scope="module")
def corpus_url(tether_server_url, tether_template):
    """A database of this module's own (a copy of the migrated template), loaded once."""
    name = f"tether_study_corpus_{os.getpid()}"
    url = asyncio.run(admin.create_database(tether_server_url, name, template=tether_template))
    asyncio.run(load_corpus(url))
    yield url
    asyncio.run(admin.drop_database(tether_server_url, name))


async def load_corpus(url: str) -> None:
    async with Database(url) as db:
        profile = await ProfileRepository(db).create("corpus@example.com", HASH)
        big, big_document = await empty_document(db, profile.id)
        plan = {"topics": [{"title": share} for share in SHARES]}
        await SessionRepository(db).set_draft_plan(big, plan)
        topics = await TopicRepository(db).create_from_draft_plan(big)
        rng = np.random.default_rng(5)
        tagged = {t.id: set(rng.choice(ROWS, SHARES[t.title], replace=False)) for t in topics}
        vectors = synthetic(ROWS, seed=6)
        await ChunkRepository(db).write(
            big,
            big_document,
            [
                NewChunk.parent(f"big {i}", v, [t for t, rows in tagged.items() if i in rows])
                for i, v in enumerate(vectors)
            ],
        )
        small, small_document = await empty_document(db, profile.id)
        await ChunkRepository(db).write(
            small,
            small_document,
            [NewChunk.parent(f"small {i}", v) for i, v in enumerate(synthetic(40, seed=7))],
        )
        await db.pool.execute("analyze study.document_chunks")


@pytest.fixture
async def corpus(corpus_url):
    async with Database(corpus_url) as db:
        sessions = await db.pool.fetch(
            "select s.title, s.id, count(c.id) as n from study.study_sessions s "
            "join study.document_chunks c on c.session_id = s.id group by s.id order by n desc"
        )
        topics = await db.pool.fetch("select title, id from study.topics")
        yield db, [r["id"] for r in sessions], {r["title"]: r["id"] for r in topics}


def slices(corpus):
    """(name, session, topics or None, chunks in the slice) for every selectivity."""
    _, (big, small), topics = corpus
    return [
        ("100%", big, None, ROWS),
        *((share, big, [topics[share]], rows) for share, rows in SHARES.items()),
        ("small session, 1%", small, None, 40),
    ]


async def truth(db, session_id, topic_ids, query) -> list[str]:
    """The exact nearest K, computed here in numpy from what the table holds."""
    rows = await db.pool.fetch(
        "select chunk_text, embedding from study.document_chunks where session_id = $1 "
        "and ($2::uuid[] is null or related_topic_ids && $2)",
        session_id,
        topic_ids,
    )
    matrix = np.stack([r["embedding"].to_numpy() for r in rows])
    nearest = np.argsort(1 - matrix @ query, kind="stable")[:K]
    return [rows[i]["chunk_text"] for i in nearest]


async def test_filtered_queries_return_k_at_every_selectivity(corpus):
    db = corpus[0]
    chunks = ChunkRepository(db)
    methods = {}
    for name, session_id, topic_ids, _ in slices(corpus):
        for query in synthetic(5, seed=8):
            found = await chunks.search(session_id, query, k=K, topic_ids=topic_ids)
            assert found.complete and len(found.hits) == K, (name, found.method)
            if topic_ids:
                assert all(set(topic_ids) & set(h.related_topic_ids) for h in found.hits)
            expected = await truth(db, session_id, topic_ids, query)
            got = [h.chunk_text for h in found.hits]
            if found.method == "exact":
                assert got == expected, name
            else:  # approximate: most of the true neighbours, never a stranger
                assert len(set(got) & set(expected)) >= K - 1, (name, got, expected)
            methods.setdefault(name, set()).add(found.method)
    # sqrt(3 k N) = sqrt(3 * 4 * 4040) = 220: the two large slices go to the index.
    assert methods == {
        "100%": {"hnsw"},
        "10%": {"hnsw"},
        "1%": {"exact"},
        "0.1%": {"exact"},
        "small session, 1%": {"exact"},
    }


async def test_exact_can_be_asked_for(corpus):
    db, (big, _), _ = corpus
    query = synthetic(1, seed=9)[0]
    found = await ChunkRepository(db).search(big, query, k=K, exact=True)
    assert found.method == "exact"
    assert [h.chunk_text for h in found.hits] == await truth(db, big, None, query)


async def test_the_index_scan_goes_on_where_a_plain_one_stops_short(corpus):
    """pgvector's known failure, and the cure: a plain HNSW scan (iterative scans off)
    filtered to 1 % or 0.1 % of the table returns fewer than k rows; the same scan in
    study.approximate_neighbours (relaxed_order iterative scan) returns k."""
    db, (big, _), topics = corpus
    query = synthetic(1, seed=10)[0]
    for share in ("1%", "0.1%"):
        topic_ids = [topics[share]]
        async with db.transaction() as conn:
            await conn.execute("set local hnsw.iterative_scan = off")
            await conn.execute("set local enable_sort = off")  # the index, as the function does
            plain = await conn.fetch(
                "select id from study.document_chunks where session_id = $1 "
                "and related_topic_ids && $2 order by embedding <=> $3 limit $4",
                big,
                topic_ids,
                query,
                K,
            )
        iterative = await db.pool.fetch(
            "select * from study.approximate_neighbours($1, $2, $3, $4)", big, query, K, topic_ids
        )
        assert len(plain) < K, share
        assert len(iterative) == K, share


async def plans_of(db, search) -> str:
    """Every plan PostgreSQL ran for one search, nested statements included (auto_explain
    at NOTICE level, so that the plans reach this connection)."""
    notices: list[str] = []
    async with db.connection() as conn:
        try:
            await conn.execute("load 'auto_explain'")
        except asyncpg.InsufficientPrivilegeError:
            pytest.skip("loading auto_explain needs a superuser")
        await conn.execute(
            "set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;"
            "set auto_explain.log_level = notice; set auto_explain.log_analyze = on;"
            "set auto_explain.log_timing = off"
        )

        def listen(_, message):
            notices.append(message.message)

        conn.add_log_listener(listen)
        await search(ChunkRepository(conn))
        conn.remove_log_listener(listen)
        await conn.execute("reset all")
    return "\n".join(notices)


async def test_explain_shows_the_hnsw_index_on_the_unfiltered_path(corpus):
    db, (big, small), _ = corpus
    query = synthetic(1, seed=11)[0]
    unfiltered = await plans_of(db, lambda chunks: chunks.search(big, query, k=K))
    assert "Index Scan using document_chunks_embedding_idx" in unfiltered
    assert "Order By: (embedding OPERATOR(public.<=>)" in unfiltered
    exact = await plans_of(db, lambda chunks: chunks.search(small, query, k=K))
    # The probe of the query's neighbourhood is planned, but never runs for a small slice.
    scans = [line for line in exact.splitlines() if "document_chunks_embedding_idx" in line]
    assert scans and all(line.endswith("(never executed)") for line in scans), scans
    assert "document_chunks_session_id_profile_id_document_id_idx" in exact
