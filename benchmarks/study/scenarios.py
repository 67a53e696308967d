"""The study scenarios, each written once per contender.

F runs the query object's own `.sql` (exactly what tether sends) and keeps the raw
Records; L calls the repository method a service would call; O1 and O2 use a
session per operation on their one connection, O1 as the seed's mapping is used,
O2 tuned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import aliased, selectinload

from tether.study import ChunkRepository, NewChunk, SessionRepository
from tether.study.embedding import synthetic
from tether.study.repositories import Q

from ..harness import Connections, Orm, Scenario
from .fixtures import B, Fixture, small_to_big
from .orm import chunk_objects, mapped

MODELS = {False: mapped(passive_deletes=False), True: mapped(passive_deletes=True)}
K = 10


class StudyScenario(Scenario):
    def __init__(self, connections: Connections, fixture: Fixture) -> None:
        super().__init__(connections)
        self.fixture = fixture
        self.sessions = SessionRepository(connections.tether)
        self.chunks = ChunkRepository(connections.tether)

    def tenant(self, argument: object) -> uuid.UUID:
        return self.fixture.owner


class SessionWithDocuments(StudyScenario):
    name = "session_with_documents"

    def __init__(self, connections: Connections, fixture: Fixture, documents: int) -> None:
        super().__init__(connections, fixture)
        self.what = f"a session and its {documents} documents (one round trip for L)"

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        return self.fixture.readers[number % len(self.fixture.readers)]

    async def floor(self, session_id: uuid.UUID) -> object:
        return await self.db.floor.fetchrow(Q.session_with_documents.sql, session_id)

    async def tether(self, session_id: uuid.UUID) -> object:
        return await self.sessions.with_documents(session_id)

    async def orm(self, orm: Orm, session_id: uuid.UUID) -> object:
        StudySession = MODELS[orm.tuned].StudySession
        async with orm.session() as session:
            return await session.get(
                StudySession, session_id, options=[selectinload(StudySession.documents)]
            )


class Search(StudyScenario):
    """The k nearest chunks of a session with their parents. The ORM sends the query
    pgvector's README shows (ORDER BY distance LIMIT k, the session filtered)."""

    name = "search"

    def __init__(self, connections: Connections, fixture: Fixture, per_session: int) -> None:
        super().__init__(connections, fixture)
        self.queries = synthetic(64, seed=77)
        share = 100 / len(fixture.searched)
        self.what = (
            f"the {K} chunks of a session nearest to a question, with their parents "
            f"({per_session} chunks, {share:.0f} % of the table)"
        )

    async def argument(self, contender: str, number: int) -> tuple[uuid.UUID, np.ndarray]:
        searched = self.fixture.searched
        return searched[number % len(searched)], self.queries[number % len(self.queries)]

    async def floor(self, argument: tuple[uuid.UUID, np.ndarray]) -> object:
        session_id, query = argument
        return await self.db.floor.fetchrow(Q.nearest_chunks.sql, False, K, session_id, query)

    async def tether(self, argument: tuple[uuid.UUID, np.ndarray]) -> object:
        session_id, query = argument
        return await self.chunks.search(session_id, query, K)

    async def orm(self, orm: Orm, argument: tuple[uuid.UUID, np.ndarray]) -> object:
        """As the seed's service would: the chunks, then their parents (selectinload)."""
        session_id, query = argument
        Chunk = MODELS[orm.tuned].DocumentChunk
        statement = (
            select(Chunk)
            .where(Chunk.session_id == session_id)
            .order_by(Chunk.embedding.cosine_distance(query))
            .limit(K)
            .options(selectinload(Chunk.parent))
        )
        async with orm.session() as session:
            return (await session.scalars(statement)).all()

    async def orm_tuned(self, orm: Orm, argument: tuple[uuid.UUID, np.ndarray]) -> object:
        """Only the columns a caller needs, the parent's text joined in: one query."""
        session_id, query = argument
        Chunk = MODELS[orm.tuned].DocumentChunk
        parent = aliased(Chunk)
        distance = Chunk.embedding.cosine_distance(query)
        statement = (
            select(Chunk.id, Chunk.document_id, Chunk.chunk_text, distance, parent.chunk_text)
            .outerjoin(parent, parent.id == Chunk.parent_chunk_id)
            .where(Chunk.session_id == session_id)
            .order_by(distance)
            .limit(K)
        )
        async with orm.session() as session:
            return (await session.execute(statement)).all()


class WriteChunks(StudyScenario):
    """A document's chunks with their embeddings, as each contender writes many rows:
    L by binary COPY (ChunkRepository.write), the ORM with pgvector's SQLAlchemy type."""

    name = "write_chunks"
    heavy = True

    def __init__(self, connections: Connections, fixture: Fixture, count: int) -> None:
        super().__init__(connections, fixture)
        self.count = count
        self.what = f"one document's {count} chunks (1 parent to 4 embedded children)"

    async def argument(self, contender: str, number: int) -> Sequence[NewChunk]:
        return small_to_big(self.count, seed=number)

    async def clean(self, chunks: Sequence[NewChunk]) -> None:
        """Delete what was written. No VACUUM here: on a table with an HNSW index it
        takes seconds, and the rotated order leaves the dead rows to every contender."""
        _, document_id = self.fixture.writer
        deleted = await self.db.setup.execute(B.forget_chunks.sql, document_id)
        assert deleted == f"DELETE {self.count}", f"the chunks were not written: {deleted}"

    def rows(self, chunks: Sequence[NewChunk]) -> list[tuple[Any, ...]]:
        session_id, document_id = self.fixture.writer
        return [
            (
                c.id,
                document_id,
                session_id,
                c.parent_chunk_id,
                c.chunk_text,
                c.embedding,
                c.type,
                c.related_topic_ids,
            )
            for c in chunks
        ]

    async def floor(self, chunks: Sequence[NewChunk]) -> object:
        query = Q.copy_chunks
        return await self.db.floor.copy_records_to_table(
            query.copy_table,
            schema_name=query.copy_schema,
            columns=query.copy_columns,
            records=self.rows(chunks),
        )

    async def tether(self, chunks: Sequence[NewChunk]) -> object:
        session_id, document_id = self.fixture.writer
        return await self.chunks.write(session_id, document_id, chunks)

    async def orm(self, orm: Orm, chunks: Sequence[NewChunk]) -> object:
        session_id, document_id = self.fixture.writer
        made = chunk_objects(MODELS[orm.tuned].DocumentChunk, chunks, session_id, document_id)
        async with orm.session() as session:
            session.add_all(made)
            await session.commit()
        return len(made)

    async def orm_tuned(self, orm: Orm, chunks: Sequence[NewChunk]) -> object:
        Chunk = MODELS[orm.tuned].DocumentChunk
        session_id, document_id = self.fixture.writer
        async with orm.session() as session:
            await session.execute(
                insert(Chunk),
                [
                    {
                        "id": c.id,
                        "document_id": document_id,
                        "session_id": session_id,
                        "parent_chunk_id": c.parent_chunk_id,
                        "chunk_text": c.chunk_text,
                        "embedding": c.embedding,
                        "type": c.type,
                        "related_topic_ids": list(c.related_topic_ids),
                    }
                    for c in chunks
                ],
            )
            await session.commit()
        return len(chunks)
