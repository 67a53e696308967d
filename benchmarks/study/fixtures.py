"""Study fixtures written with COPY, untimed: a profile, sessions with documents,
sessions of chunks (a slice each of one shared table), chunks to write.

Keys are uuids made here, so that rows can point at each other before any is
written, and nothing needs reading back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import numpy as np
from attrs import frozen

from tether import queries
from tether.study import NewChunk
from tether.study.embedding import synthetic

B = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench_study")

HASH = "$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"


async def copy(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: list[tuple[object, ...]]
) -> None:
    await conn.copy_records_to_table(
        table, schema_name="study", columns=list(columns), records=rows
    )


async def profile(conn: asyncpg.Connection, email: str) -> uuid.UUID:
    profile_id = uuid.uuid4()
    await copy(conn, "profiles", ("id", "email", "password_hash"), [(profile_id, email, HASH)])
    return profile_id


async def sessions(
    conn: asyncpg.Connection, profile_id: uuid.UUID, count: int, status: str = "ACTIVE"
) -> list[uuid.UUID]:
    """`count` sessions of the profile, put straight into `status`."""
    ids = [uuid.uuid4() for _ in range(count)]
    await copy(
        conn,
        "study_sessions",
        ("id", "profile_id", "title", "status"),
        [(i, profile_id, f"session {n}", status) for n, i in enumerate(ids)],
    )
    return ids


async def documents(
    conn: asyncpg.Connection, session_ids: Sequence[uuid.UUID], per_session: int
) -> dict[uuid.UUID, list[uuid.UUID]]:
    made = {s: [uuid.uuid4() for _ in range(per_session)] for s in session_ids}
    await copy(
        conn,
        "documents",
        ("id", "session_id", "file_name", "file_path", "content_text", "processing_status"),
        [
            (d, s, f"chapter-{n}.pdf", f"uploads/{s}/chapter-{n}.pdf", "text " * 200, "COMPLETED")
            for s, docs in made.items()
            for n, d in enumerate(docs)
        ],
    )
    return made


COLUMNS = (
    "id",
    "document_id",
    "session_id",
    "parent_chunk_id",
    "chunk_text",
    "embedding",
    "type",
    "related_topic_ids",
)


def small_to_big(count: int, *, seed: int, children_per_parent: int = 4) -> list[NewChunk]:
    """`count` chunks shaped as a chunker makes them: a PARENT (no embedding) before
    each `children_per_parent` embedded CHILD chunks."""
    parents = count // (children_per_parent + 1)
    vectors = synthetic(count - parents, seed=seed)
    chunks: list[NewChunk] = []
    made = 0
    for p in range(parents):
        parent = NewChunk.parent(f"paragraph {p} " + "words " * 80)
        chunks.append(parent)
        for c in range(children_per_parent):
            chunks.append(
                NewChunk.child(parent, f"sentence {p}.{c} " + "words " * 20, vectors[made])
            )
            made += 1
    return chunks


async def chunks(
    conn: asyncpg.Connection,
    session_id: uuid.UUID,
    document_id: uuid.UUID,
    vectors: np.ndarray,
) -> None:
    """One embedded PARENT chunk per row of `vectors`."""
    await copy(
        conn,
        "document_chunks",
        COLUMNS,
        [
            (uuid.uuid4(), document_id, session_id, None, f"chunk {n}", vector, "PARENT", [])
            for n, vector in enumerate(vectors)
        ],
    )


@frozen
class Fixture:
    owner: uuid.UUID  # the profile every session belongs to: the tenant of every scenario
    readers: list[uuid.UUID]  # sessions with documents
    searched: list[uuid.UUID]  # sessions of chunks, slices of one table
    writer: tuple[uuid.UUID, uuid.UUID]  # (session, document) chunks are written into


async def load(
    conn: asyncpg.Connection,
    *,
    readers: int,
    documents_per_session: int,
    searched: int,
    chunks_per_session: int,
) -> Fixture:
    owner = await profile(conn, "bench@study.test")
    reading = await sessions(conn, owner, readers)
    await documents(conn, reading, documents_per_session)
    slices = await sessions(conn, owner, searched)
    holding = await documents(conn, slices, 1)
    for n, session_id in enumerate(slices):
        vectors = synthetic(chunks_per_session, seed=1000 + n)
        await chunks(conn, session_id, holding[session_id][0], vectors)
    [writing] = await sessions(conn, owner, 1, status="CHUNKING")
    written = await documents(conn, [writing], 1)
    return Fixture(owner, reading, slices, (writing, written[writing][0]))
