"""The tickets domain's own errors, each a kind of tether error a caller may catch."""

from __future__ import annotations

from tether.errors import Conflict, TetherError


class DependencyCycle(Conflict):
    """The dependencies written would close a cycle in the session's graph."""


class AppendOnly(Conflict):
    """A row of the append-only audit log was to be changed or removed."""


class TokenKeyError(TetherError):
    """The key ring for Jira tokens is missing or malformed, or holds no key with the
    id a stored token names."""


class UnreadableToken(TokenKeyError):
    """A stored token does not decrypt with its key: a wrong key under that id, or a
    ciphertext altered in the database (authenticated encryption tells)."""
