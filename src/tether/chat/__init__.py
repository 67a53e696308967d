"""chat (seed 002): a healthcare chatbot's users (password or OAuth) with hashed refresh
tokens, conversations whose counters the database keeps exact, and streamed messages."""

from tether.chat.errors import EmailTaken, MessageStatusConflict
from tether.chat.records import (
    ActiveToken,
    Conversation,
    Message,
    RefreshToken,
    Role,
    Sender,
    Status,
    User,
)
from tether.chat.repositories import (
    DEFAULT_TOKEN_TTL,
    ConversationRepository,
    MessageRepository,
    RefreshTokenRepository,
    UserRepository,
)
from tether.chat.tokens import TokenKey

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "ActiveToken",
    "Conversation",
    "ConversationRepository",
    "EmailTaken",
    "Message",
    "MessageRepository",
    "MessageStatusConflict",
    "RefreshToken",
    "RefreshTokenRepository",
    "Role",
    "Sender",
    "Status",
    "TokenKey",
    "User",
    "UserRepository",
]
