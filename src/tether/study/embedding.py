"""A small deterministic embedding for demos and tests: feature hashing of words.

No model and no download: each word (lower-cased, plural "s" dropped, a few very
common words left out) lands on one of the 768 dimensions, with a sign, both taken from a hash of
the word; a text's vector is the sum over its words, scaled to unit length. Texts
that share words point the same way (small cosine distance); texts with no word in
common are nearly orthogonal (distance near 1). It knows nothing of meaning, so a
service embeds with its real model and keeps this for examples and tests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import numpy as np

from tether.study.records import EMBEDDING_DIMENSIONS, Embedding

_WORD = re.compile(r"[^\W_]+")
# Words so common that sharing them says nothing.
_STOP = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from"),
        *("has", "have", "how", "in", "is", "it", "its", "of", "on", "or", "that", "the"),
        *("this", "to", "was", "what", "when", "where", "which", "who", "why", "will", "with"),
    }
)


def _slot(word: str) -> tuple[int, float]:
    digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "big")
    return number % EMBEDDING_DIMENSIONS, 1.0 if number >> 63 else -1.0


def words(text: str) -> list[str]:
    """The words of `text` the embedding counts: lower case, a final plural "s"
    dropped ("vectors" counts as "vector"), the commonest words left out."""
    found = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.append(word)
    return found


def embed(text: str) -> Embedding:
    """`text` as a unit vector of EMBEDDING_DIMENSIONS float32 numbers.

    A text with no word that counts gets the vector of the word "empty" rather than
    the zero vector (which has no direction to compare).
    """
    for counted in (words(text), ["empty"]):
        vector = np.zeros(EMBEDDING_DIMENSIONS, dtype=np.float32)
        for word in counted:
            index, sign = _slot(word)
            vector[index] += sign
        norm = np.linalg.norm(vector)
        if norm > 0:  # words whose signs cancel out leave nothing: "empty" then
            break
    return vector / norm


def embed_many(texts: Iterable[str]) -> np.ndarray:
    """One row per text: an (n, EMBEDDING_DIMENSIONS) float32 matrix."""
    rows = [embed(text) for text in texts]
    if not rows:
        return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
    return np.stack(rows)


def synthetic(n: int, *, seed: int, clustered: bool = True) -> np.ndarray:
    """`n` unit vectors (an (n, EMBEDDING_DIMENSIONS) float32 matrix) for tests and
    benchmarks, the same for the same seed.

    Clustered (the default) is shaped like real text embeddings: points around 200
    centres in a 32-dimensional space, mapped into 768 dimensions by one fixed random
    projection, plus a little noise in every dimension: low intrinsic dimension,
    clear neighbourhoods. Otherwise independent Gaussian directions: no structure at
    all, the worst case for an approximate index (every point is about as far from a
    query as every other).
    """
    rng = np.random.default_rng(seed)
    vectors: np.ndarray
    if clustered:
        # The space (centres, projection) is fixed; the seed picks the points in it.
        space = np.random.default_rng(2026)
        basis = space.standard_normal((32, EMBEDDING_DIMENSIONS), dtype=np.float32)
        centres = space.standard_normal((200, 32), dtype=np.float32) * 2.0
        latent = centres[rng.integers(len(centres), size=n)]
        latent += rng.standard_normal((n, 32), dtype=np.float32)
        vectors = latent @ basis
        vectors += 0.5 * rng.standard_normal((n, EMBEDDING_DIMENSIONS), dtype=np.float32)
    else:
        vectors = rng.standard_normal((n, EMBEDDING_DIMENSIONS), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = (vectors / norms).astype(np.float32)
    return unit
