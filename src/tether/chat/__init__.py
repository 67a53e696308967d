"""chat (seed 002): a healthcare chatbot's users (password or OAuth) with hashed refresh
tokens, conversations whose counters the database keeps exact, and streamed messages."""

from tether.chat.errors import EmailTaken, MessageStatusConflict
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
    DEFAULT_TOKEN_TTL,
    KEY_VARIABLE,
    RefreshTokenRepository,
    TokenKey,
    default_key,
)

__all__ = [
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
    "User",
    "UserRepository",
    "default_key",
]
