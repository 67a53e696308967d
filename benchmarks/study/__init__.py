"""The study domain (seed 003): its fixtures, scenarios and figures.

Scenarios (the four contenders, on the shared benchmark database): a session with
its documents, a search of a session's chunks, and writing a document's chunks
with embeddings. Figures (each in a database of its
own, see figures.py): retrieval recall, rows and latency per selectivity on
100,000 x 768 clustered and random vectors, the unfiltered speed-up over exact
search, chunk writes per second (COPY, text literals, the ORM), the HNSW build.
"""

from __future__ import annotations

from attrs import frozen

from ..harness import Connections, Scenario
from . import fixtures
from .figures import figures
from .scenarios import Search, SessionWithDocuments, WriteChunks


@frozen
class Sizes:
    readers: int  # sessions with documents
    documents: int  # per reader
    searched: int  # sessions of chunks (each 1/searched of the shared table)
    chunks_per_session: int
    written: int  # chunks per timed write


SIZES = {
    "full": Sizes(50, 10, 20, 200, 100),
    "quick": Sizes(20, 10, 10, 200, 100),
    "smoke": Sizes(2, 3, 2, 20, 10),
}


async def scenarios(connections: Connections, sizes: Sizes) -> list[Scenario]:
    """Load the study fixtures (untimed) and return its scenarios."""
    loaded = await fixtures.load(
        connections.setup,
        readers=sizes.readers,
        documents_per_session=sizes.documents,
        searched=sizes.searched,
        chunks_per_session=sizes.chunks_per_session,
    )
    return [
        SessionWithDocuments(connections, loaded, sizes.documents),
        Search(connections, loaded, sizes.chunks_per_session),
        WriteChunks(connections, loaded, sizes.written),
    ]


__all__ = ["SIZES", "figures", "scenarios"]
