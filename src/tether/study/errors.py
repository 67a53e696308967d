"""The study domain's own errors: both are about a session's status, and both are
tether errors a caller can catch without asyncpg."""

from __future__ import annotations

from tether.errors import Conflict, InvalidValue


class StatusMoveRefused(InvalidValue):
    """The database refused a status move the seed does not allow
    (rule study_sessions_status_move_check): UPLOADING -> GENERATING_PLAN ->
    EDITING_PLAN -> CHUNKING -> ACTIVE -> COMPLETED, EDITING_PLAN -> GENERATING_PLAN
    and COMPLETED -> ACTIVE are the only moves."""


class StatusChanged(Conflict):
    """A compare-and-set move lost: the session was no longer in the status the
    caller expected (another writer moved it first). `current` is where it is now."""

    def __init__(self, message: str, *, current: str, table: str) -> None:
        super().__init__(message, table=table)
        self.current = current
