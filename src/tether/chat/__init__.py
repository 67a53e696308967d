"""chat (seed 002): a healthcare chatbot's users (password or OAuth) with hashed refresh
tokens, conversations whose counters the database keeps exact, and streamed messages."""

from tether.chat.errors import EmailTaken, MessageStatusConflict, TokenReuse
from tether.chat.records import (
    ActiveToken,
    Conversation,
    Message,
    MessageStatus,
    RefreshToken,
    Role,
    Sender,
    User,
)
from tether.chat.repositories import (
    ConversationRepository,
    MessageRepository,
    UserRepository,
)
from tether.chat.tokens import (
    DEFAULT_FAMILY_LIFETIME,
    DEFAULT_REUSE_GRACE,
    DEFAULT_TOKEN_TTL,
    KEY_VARIABLE,
    RefreshTokenRepository,
    TokenKey,
    TokenKeys,
    default_keys,
)

__all__ = [
    "DEFAULT_FAMILY_LIFETIME",
    "DEFAULT_REUSE_GRACE",
    "DEFAULT_TOKEN_TTL",
    "KEY_VARIABLE",
    "ActiveToken",
    "Conversation",
    "ConversationRepository",
    "EmailTaken",
    "Message",
    "MessageRepository",
    "MessageStatus",
    "MessageStatusConflict",
    "RefreshToken",
    "RefreshTokenRepository",
    "Role",
    "Sender",
    "TokenKey",
    "TokenKeys",
    "TokenReuse",
    "User",
    "UserRepository",
    "default_keys",
]
