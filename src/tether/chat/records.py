"""The chat domain's records: one attrs class per result shape, fields in column order.

Secrets stay out of every repr: a user's password hash, a raw refresh token. Roles,
senders and message statuses come out as the StrEnums below, which compare equal to
their labels (MessageStatus.SENT == "sent").
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from attrs import field, frozen


class Role(enum.StrEnum):
    """`chat.users.role`."""

    USER = "user"
    ADMIN = "admin"


class Sender(enum.StrEnum):
    """`chat.messages.sender`."""

    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(enum.StrEnum):
    """`chat.messages.status`: it only moves forward; SENT and FAILED are final."""

    SENDING = "sending"
    STREAMING = "streaming"
    SENT = "sent"
    FAILED = "failed"


@frozen
class User:
    id: uuid.UUID
    email: str
    # The hash the service computed, for it to verify a password at sign-in; None
    # for a user who signs in with OAuth only.
    hashed_password: str | None = field(repr=False)
    name: str | None
    role: Role = field(converter=Role)
    created_at: dt.datetime
    # Whether the address was proven (the service's link, or an OAuth provider's word).
    email_verified: bool
    # The OAuth identity the user signs in with, if any: the provider, and the user's
    # id there (unique together).
    oauth_provider: str | None
    oauth_subject: str | None

    @property
    def has_password(self) -> bool:
        return self.hashed_password is not None


@frozen
class Conversation:
    id: uuid.UUID
    user_id: uuid.UUID
    title: str | None
    # Kept exact by the database: how many messages, and when the newest was written.
    messages_count: int
    created_at: dt.datetime
    last_message_at: dt.datetime | None


@frozen
class Message:
    id: uuid.UUID
    conversation_id: uuid.UUID
    sender: Sender = field(converter=Sender)
    content: str
    status: MessageStatus = field(converter=MessageStatus)
    metadata: dict[str, Any]
    created_at: dt.datetime


@frozen
class TokenGrant:
    """The row an issued or rotated refresh token leaves: whose, and when."""

    user_id: uuid.UUID
    issued_at: dt.datetime
    expires_at: dt.datetime


@frozen
class Rotation:
    """What a rotation left: whose token, its family, and whether a successor was
    issued (when) or the token was a spent one (reuse: the family is revoked)."""

    user_id: uuid.UUID
    family: uuid.UUID
    rotated: bool
    issued_at: dt.datetime | None
    expires_at: dt.datetime | None


@frozen
class RefreshToken:
    """A refresh token just issued: the raw token, to hand to the client once (the
    database holds only its hash, and no repr shows it), its user and its lifetime."""

    token: str = field(repr=False)
    user_id: uuid.UUID
    issued_at: dt.datetime
    expires_at: dt.datetime


@frozen
class ActiveToken:
    """When one of a user's live refresh tokens was issued and when it expires (a
    signed-in device); never its hash."""

    issued_at: dt.datetime
    expires_at: dt.datetime
