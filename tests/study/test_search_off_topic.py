"""Filtered search when the question lies outside the slice's own neighbourhood: a
slice made of a few clusters (a session's topic about two subjects), questions about
other subjects. A scan of the index filtered to the slice would start among other
subjects' chunks and wander (slow, and it misses neighbours); the statement sees that
none of the question's nearest chunks in the table is the slice's and reads the
slice instead. Questions inside the slice's neighbourhood still take the index."""

import asyncio
import os
from functools import cache

import numpy as np
import pytest

from tether import Database, admin
from tether.study import (
    ChunkRepository,
    NewChunk,
    ProfileRepository,
    SessionRepository,
    TopicRepository,
)
from tether.study.embedding import synthetic

from .reliability import HASH
from .test_chunks import empty_document

ROWS = 4000
K = 10
SLICE = 400  # 10 %: above sqrt(3 k N) = 347, so the index is in play
ANCHORS = 2  # the subjects the slice is about


@pytest.fixture(scope="module")
def clustered_url(tether_server_url, tether_template):
    name = f"tether_study_off_topic_{os.getpid()}"
    url = asyncio.run(admin.create_database(tether_server_url, name, template=tether_template))
    asyncio.run(load(url))
    yield url
    asyncio.run(admin.drop_database(tether_server_url, name))


@cache
def table() -> tuple[np.ndarray, np.ndarray]:
    """The table's vectors and the rows of the slice: the chunks nearest to two of
    them (each anchor's SLICE / ANCHORS nearest)."""
    vectors = synthetic(ROWS, seed=21)
    anchors = np.random.default_rng(22).choice(ROWS, ANCHORS, replace=False)
    members = set()
    for anchor in anchors:
        members |= set(nearest(vectors, vectors[anchor], SLICE // ANCHORS))
    return vectors, np.array(sorted(members))


def nearest(vectors: np.ndarray, question: np.ndarray, count: int) -> list[int]:
    return np.argsort(-(vectors @ question), kind="stable")[:count].tolist()


async def load(url: str) -> None:
    vectors, members = table()
    slices = {"two subjects": set(members.tolist())}
    async with Database(url) as db:
        profile = await ProfileRepository(db).create("clusters@example.com", HASH)
        session, document = await empty_document(db, profile.id)
        plan = {"topics": [{"title": title} for title in slices]}
        await SessionRepository(db).set_draft_plan(session, plan)
        topics = await TopicRepository(db).create_from_draft_plan(session)
        chunks = [
            NewChunk.parent(f"chunk {n}", v, [t.id for t in topics if n in slices[t.title]])
            for n, v in enumerate(vectors)
        ]
        await ChunkRepository(db).write(session, document, chunks)
        await db.statements.execute("analyze study.document_chunks")


@pytest.fixture
async def clustered(clustered_url):
    async with Database(clustered_url) as db:
        session_id = await db.statements.fetchval("select id from study.study_sessions")
        topics = await db.statements.fetch("select title, id from study.topics")
        yield db, session_id, {t["title"]: [t["id"]] for t in topics}


def questions(kind: str, count: int = 20) -> list[np.ndarray]:
    """Questions none of whose 40 nearest chunks is in the slice ("off"), whose nearest
    chunk is ("on"), or on its edge: some of the 40 nearest in the slice, but fewer
    than k of the 100 nearest ("edge")."""
    vectors, members = table()
    inside = set(members.tolist())
    found = []
    for question in synthetic(400, seed=23):
        closest = nearest(vectors, question, 100)
        near = len(inside & set(closest[:40]))
        if {
            "off": near == 0,
            "on": closest[0] in inside,
            "edge": near > 0 and len(inside & set(closest)) < K,
        }[kind]:
            found.append(question)
    assert len(found) >= count, len(found)
    return found[:count]


def truth(question: np.ndarray) -> list[str]:
    vectors, members = table()
    order = members[np.argsort(-(vectors[members] @ question), kind="stable")][:K]
    return [f"chunk {n}" for n in order]


def recall(found, question) -> float:
    return len({h.chunk_text for h in found.hits} & set(truth(question))) / K


async def test_an_off_topic_question_reads_the_slice_and_finds_every_neighbour(clustered):
    db, session_id, topics = clustered
    topic_ids = topics["two subjects"]
    chunks = ChunkRepository(db)
    for question in questions("off"):
        found = await chunks.search(session_id, question, K, topic_ids=topic_ids)
        assert found.method == "exact"
        assert [h.chunk_text for h in found.hits] == truth(question)


@pytest.mark.parametrize("kind", ["on", "edge"])
async def test_a_question_in_reach_of_the_slice_takes_the_index(clustered, kind):
    db, session_id, topics = clustered
    topic_ids = topics["two subjects"]
    chunks = ChunkRepository(db)
    recalls, methods = [], set()
    for question in questions(kind):
        found = await chunks.search(session_id, question, K, topic_ids=topic_ids)
        methods.add(found.method)
        assert found.complete
        recalls.append(recall(found, question))
    assert methods == {"hnsw"}
    assert np.mean(recalls) >= 0.95, recalls
    assert min(recalls) >= 0.7, recalls
