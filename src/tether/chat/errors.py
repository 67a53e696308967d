"""The chat domain's own errors, for the rules a service handles on their own."""

from tether.errors import Conflict


class EmailTaken(Conflict):
    """An account with this e-mail address, in any case, already exists (sign-up: 409)."""


class MessageStatusConflict(Conflict):
    """A message's status cannot move that way: it only moves forward, and a sent or
    failed message is final."""
