"""The study domain's demo story (seed 003), played by `tether demo study`.

Ada uploads three documents for a linear algebra exam. Her session moves through
its statuses: an AI drafts a plan, she edits it, topics are made from it in one
call, the documents are cut into parent and child chunks, embedded by the small
hashing embedding shipped in tether.study.embedding, and written by binary COPY.
A question in the general chat is answered from the nearest chunks with their
parents; a move the seed does not allow, and a move from a stale status, are
refused. Deleting a topic takes its chat and leaves every chunk's array, counted
by PostgreSQL. The tests start from the same story (`build_session`).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence

from attrs import define, frozen

from tether import queries
from tether.changes import preview, track
from tether.database import Database
from tether.demo import Out, StoryLookups, changes_table, table
from tether.errors import TetherError
from tether.passwords import MIN_COST, hash_password
from tether.study.embedding import embed, words
from tether.study.records import (
    Document,
    MessageRole,
    NewChunk,
    Profile,
    Retrieval,
    SessionStatus,
    StudySession,
    Topic,
)
from tether.study.repositories import (
    ChatRepository,
    ChunkRepository,
    DocumentRepository,
    MessageRepository,
    ProfileRepository,
    SessionRepository,
    TopicRepository,
)

Q = queries.load("study")

DOCUMENTS = {
    "vectors.md": (
        "A vector has a direction and a length. The length of a vector is the square root "
        "of the dot product of the vector with itself. Two vectors are orthogonal when "
        "their dot product is zero.\n\n"
        "Adding two vectors adds their components. Scaling a vector by a number multiplies "
        "each component by that number."
    ),
    "matrices.md": (
        "A matrix maps vectors to vectors. Multiplying a matrix by a vector takes the dot "
        "product of each row with the vector.\n\n"
        "The determinant of a square matrix says whether the matrix can be inverted: a "
        "matrix whose determinant is zero has no inverse."
    ),
    "eigen.md": (
        "An eigenvector of a matrix keeps its direction when the matrix is applied to it. "
        "Its eigenvalue is the number by which the eigenvector is scaled.\n\n"
        "The eigenvalues of a matrix are the roots of its characteristic polynomial: the "
        "determinant of the matrix minus lambda times the identity."
    ),
}

# What the AI drafts, and what Ada makes of it.
DRAFT_PLAN = {
    "topics": [
        {"title": "Vectors", "subtopics": ["length", "dot product"]},
        {"title": "Matrices", "subtopics": ["matrix times vector", "inverse"]},
        {"title": "Eigenvalues", "subtopics": ["eigenvectors"]},
    ]
}
EDITED_PLAN = {
    "topics": [
        *DRAFT_PLAN["topics"][:2],
        {"title": "Determinants", "subtopics": ["zero determinant"]},
        {"title": "Eigenvalues", "subtopics": ["eigenvectors", "characteristic polynomial"]},
    ],
    "note": "Ada added determinants before eigenvalues",
}
# The words that relate a chunk to a topic (as tether.study.embedding counts words).
KEYWORDS = {
    "Vectors": {"vector"},
    "Matrices": {"matrix", "matrice"},
    "Determinants": {"determinant"},
    "Eigenvalues": {"eigenvalue", "eigenvector"},
}
QUESTION = "How do I find the length of a vector?"
EIGEN_QUESTION = "What number scales an eigenvector of a matrix?"


def chunk_document(text: str, topics: Sequence[Topic]) -> list[NewChunk]:
    """Paragraphs as PARENT chunks (not embedded), their sentences as embedded CHILD
    chunks; each related to the topics whose keywords it uses."""

    def related(piece: str) -> list[uuid.UUID]:
        used = set(words(piece))
        return [t.id for t in topics if KEYWORDS.get(t.title, set()) & used]

    chunks = []
    for paragraph in text.split("\n\n"):
        parent = NewChunk.parent(paragraph, related_topic_ids=related(paragraph))
        chunks.append(parent)
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            chunks.append(NewChunk.child(parent, sentence, embed(sentence), related(sentence)))
    return chunks


@define
class StudyStory:
    """Who and what the seed-003 story made (the tests start from it too)."""

    ada: Profile
    session: StudySession
    documents: list[Document]
    topics: list[Topic]
    chunks: int = 0


async def build_session(db: Database) -> StudyStory:
    """Ada's session, from upload to ACTIVE: documents, the edited plan's topics, and
    every chunk embedded and written."""
    sessions, topics = SessionRepository(db), TopicRepository(db)
    ada = await ProfileRepository(db).create(
        # A demo's cheap cost (2^10): a service keeps hash_password's default (2^17).
        "ada@example.com",
        hash_password("correct horse battery staple", cost=MIN_COST),
    )
    session = await sessions.create(ada.id, "Linear algebra exam", "Chapters 1-3, in two weeks")
    documents = [
        await DocumentRepository(db).create(
            session.id, name, f"uploads/{ada.id}/{name}", content_text=text
        )
        for name, text in DOCUMENTS.items()
    ]
    await sessions.move(session.id, SessionStatus.UPLOADING, SessionStatus.GENERATING_PLAN)
    await sessions.set_draft_plan(session.id, DRAFT_PLAN)
    await sessions.move(session.id, SessionStatus.GENERATING_PLAN, SessionStatus.EDITING_PLAN)
    await sessions.set_draft_plan(session.id, EDITED_PLAN)
    await sessions.move(session.id, SessionStatus.EDITING_PLAN, SessionStatus.CHUNKING)
    made = await topics.create_from_draft_plan(session.id)
    story = StudyStory(ada, session, documents, made)
    for document in documents:
        assert document.content_text is not None
        story.chunks += await ChunkRepository(db).write(
            session.id, document.id, chunk_document(document.content_text, made)
        )
        await DocumentRepository(db).set_text(document.id, document.content_text)
    story.session = await sessions.move(session.id, SessionStatus.CHUNKING, SessionStatus.ACTIVE)
    return story


@frozen
class TopicChunks:
    title: str
    chunks: int


class Lookups(StoryLookups):
    """The story's own look-ups (sql/study/story.sql)."""

    RELATED_CHUNK_COUNTS = Q.related_chunk_counts.returning(TopicChunks)
    CHUNKS_NAMING_TOPIC = Q.chunks_naming_topic

    async def related_chunk_counts(self, session_id: uuid.UUID) -> list[TopicChunks]:
        return await self._many(self.RELATED_CHUNK_COUNTS, session_id=session_id)

    async def chunks_naming(self, topic_id: uuid.UUID) -> int:
        count: int = await self._val(self.CHUNKS_NAMING_TOPIC, topic_id=topic_id)
        return count


def hits_table(found: Retrieval) -> str:
    rows = [(f"{hit.distance:.3f}", hit.chunk_text, hit.context) for hit in found.hits]
    return table(("distance", "chunk (CHILD)", "its parent (the context)"), rows)


def topics_table(found: Sequence[Topic]) -> str:
    rows = [(t.order_index, t.title, ", ".join(t.subtopics)) for t in found]
    return table(("order", "topic", "subtopics"), rows)


async def play(db: Database, out: Out) -> None:
    sessions, topics, chunks = SessionRepository(db), TopicRepository(db), ChunkRepository(db)
    story = await build_session(db)
    session_id = story.session.id

    out("\n== Ada's session and its documents (one round trip) ==")
    whole = await sessions.with_documents(session_id)
    out(f"{whole.session.title}: {whole.session.status}")
    out(
        table(
            ("document", "characters (computed)", "processing"),
            [(d.file_name, d.content_length, d.processing_status) for d in whole.documents],
        )
    )
    out(
        "statuses on the way: UPLOADING -> GENERATING_PLAN -> EDITING_PLAN (the AI's plan, "
        "edited) -> CHUNKING -> ACTIVE"
    )
    out("\ntopics made from the edited draft plan, in one statement:")
    out(topics_table(story.topics))

    out("\n== moves the database refuses ==")
    try:
        await sessions.move(session_id, SessionStatus.ACTIVE, SessionStatus.UPLOADING)
    except TetherError as refused:
        out(f"ACTIVE -> UPLOADING: {type(refused).__name__}: {refused}")
    try:
        # A second browser tab still shows the plan editor and asks to regenerate.
        await sessions.move(session_id, SessionStatus.EDITING_PLAN, SessionStatus.GENERATING_PLAN)
    except TetherError as refused:
        out(f"a stale tab's EDITING_PLAN -> GENERATING_PLAN: {type(refused).__name__}: {refused}")

    out("\n== chunks: paragraphs as parents, sentences as embedded children (binary COPY) ==")
    out(f"{story.chunks} chunks written; the chunks naming each topic:")
    lookups = Lookups(db)
    counts = await lookups.related_chunk_counts(session_id)
    out(table(("topic", "chunks"), [(c.title, c.chunks) for c in counts]))

    out(f'\n== a question in the general chat: "{QUESTION}" ==')
    chat = await ChatRepository(db).general(session_id)
    messages = MessageRepository(db)
    await messages.append(chat.id, MessageRole.USER, QUESTION)
    found = await chunks.search(session_id, embed(QUESTION), k=3)
    out(f"the 3 nearest chunks ({found.method} search), each with its parent:")
    out(hits_table(found))
    await messages.append(chat.id, MessageRole.ASSISTANT, "From your notes: " + found.contexts()[0])
    eigen = next(t for t in story.topics if t.title == "Eigenvalues")
    related = await chunks.search(session_id, embed(EIGEN_QUESTION), k=2, topic_ids=[eigen.id])
    out(f"\n'{EIGEN_QUESTION}', among the chunks related to Eigenvalues only:")
    out(hits_table(related))
    page = await messages.page_of_chat(chat.id)
    out("\nthe general chat, in order:")
    out(table(("#", "role", "message"), [(m.seq, m.role, m.content) for m in page]))

    out("\n== the topic Matrices is deleted ==")
    matrices = next(t for t in story.topics if t.title == "Matrices")
    await ChatRepository(db).for_topics(session_id)
    out(f"chunks naming it before: {await lookups.chunks_naming(matrices.id)}")
    async with db.connection() as conn, track(conn) as changes:
        await TopicRepository(conn).delete(matrices.id)
    out(
        "what the database did (pg_stat_xact_user_tables): its chat goes, and its id "
        "leaves every chunk's related_topic_ids:"
    )
    out(changes_table(changes))
    out(f"chunks naming it after: {await lookups.chunks_naming(matrices.id)}")
    vectors, _, determinants, _ = story.topics
    out("Ada puts Eigenvalues second (one statement; the order is unique, checked at its end):")
    out(topics_table(await topics.reorder(session_id, [vectors.id, eigen.id, determinants.id])))

    out("\n== two tabs finish the session at the same moment ==")
    outcomes = await asyncio.gather(
        sessions.move(session_id, SessionStatus.ACTIVE, SessionStatus.COMPLETED),
        sessions.move(session_id, SessionStatus.ACTIVE, SessionStatus.COMPLETED),
        return_exceptions=True,
    )
    out(
        "one wins, the other is told: "
        + " / ".join(
            f"{type(o).__name__}" + (f" ({o.status})" if isinstance(o, StudySession) else "")
            for o in sorted(outcomes, key=lambda o: type(o).__name__)
        )
    )
    reopened = await sessions.move(session_id, SessionStatus.COMPLETED, SessionStatus.ACTIVE)
    out(f"reopened: {reopened.status}")

    out("\n== what deleting Ada would remove (counted, then rolled back) ==")
    would = await preview(db, lambda conn: ProfileRepository(conn).delete(story.ada.id))
    out(changes_table(would))
