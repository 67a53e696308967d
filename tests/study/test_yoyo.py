"""The study domain in a database built by plain `yoyo apply` (as a deployment builds
it, common and study only): the rules hold there too, and tether works on it."""

import pytest

from domain_checks import yoyo_built
from reliability.test_stairway import facts_of, schema_of
from tether import Database, InvalidValue, MissingReference
from tether.study import (
    ChunkRepository,
    NewChunk,
    SessionRepository,
    StatusMoveRefused,
    TopicRepository,
)
from tether.study.embedding import embed
from tether.study.story import build_session

pytestmark = pytest.mark.slow


@pytest.fixture
async def yoyo_url(tether_server_url):
    async with yoyo_built(tether_server_url, "study") as url:
        yield url


async def test_plain_yoyo_builds_the_catalog_tether_builds(yoyo_url, tether_url):
    """Every schema, table, column, constraint, index, function, trigger and enum label
    (the stairway test's facts) of study, the same as in the suite's databases (which
    hold every domain): every rule of the domain is there, and no other domain."""
    built = await schema_of(yoyo_url)
    assert facts_of(built, "study") == facts_of(await schema_of(tether_url), "study")
    assert not any(facts_of(built, other) for other in ("tutor", "planner", "chat", "tickets"))
    assert any("document_chunks_related_topics_fkey" in fact for fact in built)


async def test_every_rule_holds_in_a_database_built_by_plain_yoyo(yoyo_url):
    async with Database(yoyo_url) as db:
        schemas = await db.pool.fetchval(
            "select array_agg(nspname order by nspname) from pg_namespace "
            "where nspname in ('planner', 'study')"
        )
        assert schemas == ["study"]
        story = await build_session(
            db
        )  # statuses, plan, topics, chunks by COPY: all the way to ACTIVE
        with pytest.raises(StatusMoveRefused):
            await SessionRepository(db).move(story.session.id, "ACTIVE", "CHUNKING")
        with pytest.raises(MissingReference) as stray:
            await ChunkRepository(db).write(
                story.session.id,
                story.documents[0].id,
                [NewChunk.parent("x", embed("x"), [story.ada.id])],  # not a topic
            )
        assert stray.value.constraint == "document_chunks_related_topics_fkey"
        parent = NewChunk.parent("p")
        child = NewChunk.child(parent, "c")
        with pytest.raises(InvalidValue) as grandchild:
            await ChunkRepository(db).write(
                story.session.id, story.documents[1].id, [parent, child, NewChunk.child(child, "g")]
            )
        assert grandchild.value.constraint == "document_chunks_parent_check"
        matrices = story.topics[1]
        assert await TopicRepository(db).delete(matrices.id)
        assert (
            await db.pool.fetchval(
                "select count(*) from study.document_chunks where $1 = any(related_topic_ids)",
                matrices.id,
            )
            == 0
        )
        found = await ChunkRepository(db).search(story.session.id, embed("length of a vector"), k=3)
        assert found.complete and "length" in found.hits[0].chunk_text + found.hits[1].chunk_text
