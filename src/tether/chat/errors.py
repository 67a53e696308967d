"""The chat domain's own errors, for the rules a service handles on their own."""

import uuid

from tether.errors import Conflict, TetherError


class EmailTaken(Conflict):
    """An account with this e-mail address, in any case, already exists (sign-up: 409)."""


class MessageStatusConflict(Conflict):
    """A message's status cannot move that way: it only moves forward, and a sent or
    failed message is final."""


class TokenReuse(TetherError):
    """A refresh token was presented after it had been rotated: it was copied (stolen),
    and its whole family, every token of that sign-in, has been revoked. The service
    answers 401 and may alert the user; `user_id` and `family` say whose and which."""

    def __init__(self, message: str, *, table: str, user_id: uuid.UUID, family: uuid.UUID) -> None:
        super().__init__(message, table=table)
        self.user_id = user_id
        self.family = family
