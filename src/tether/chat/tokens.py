"""Refresh tokens: made by tether, kept in the database only as their keyed hash; the
key, and `RefreshTokenRepository`, which hashes with it.

A raw token is 32 random bytes (`secrets.token_urlsafe`, 43 characters): it goes to
the client once and never to the database. What is stored, and looked up, is its
HMAC-SHA256 under a key of the service's (`TokenKey`), as 64 hex digits.

Why a keyed hash and not a salted one: a salt per token makes the hash impossible to
look up, so the raw token would have to carry its user's id; an HMAC is the same for
the same token, so the token stays opaque and the database finds its user through
an index. Why not a password hash (bcrypt, argon2): those are slow on purpose, to
make guessing a *weak* secret expensive; a 256-bit random token cannot be guessed,
and a slow hash would only slow every refresh. The key adds what a bare SHA-256
would not: a copy of the database alone (a leaked backup) does not let anyone check
a token they hold or forge a lookup, and hashes of two deployments never match.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Mapping

from attrs import field, frozen

from tether import queries
from tether.chat.records import ActiveToken, RefreshToken, TokenGrant
from tether.database import Database
from tether.errors import InvalidValue
from tether.repository import Executor, Repository

Q = queries.load("chat")

# Where TokenKey.from_environment looks for the key.
KEY_VARIABLE = "TETHER_CHAT_TOKEN_KEY"
MIN_KEY_BYTES = 32
# How long a refresh token lives unless the caller says otherwise; each rotation
# starts a new one (a session idle for longer ends).
DEFAULT_TOKEN_TTL = dt.timedelta(days=30)


def _long_enough(_: object, __: object, secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_KEY_BYTES:
        raise ValueError(f"a refresh-token key is at least {MIN_KEY_BYTES} bytes")


@frozen
class TokenKey:
    """The secret refresh tokens are hashed with (HMAC-SHA256): the service's, from its
    environment or secret store, never from a file in a repository. It never shows in
    a repr. Changing it ends every session (each user signs in again)."""

    secret: bytes = field(repr=False, validator=_long_enough)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> TokenKey:
        """The key in $TETHER_CHAT_TOKEN_KEY (its UTF-8 bytes; at least 32), for example
        made with `openssl rand -base64 48`. Read each call: repositories default to
        `default_key()`, which reads it once per process."""
        value = environ.get(KEY_VARIABLE)
        if not value:
            raise ValueError(f"set ${KEY_VARIABLE} to a secret of at least {MIN_KEY_BYTES} bytes")
        return cls(value.encode())

    @classmethod
    def generate(cls) -> TokenKey:
        """A random key, for tests and demos: tokens hashed with it die with the process."""
        return cls(secrets.token_bytes(MIN_KEY_BYTES))

    def hash(self, token: str) -> str:
        """The hash stored for `token`: HMAC-SHA256, 64 lowercase hex digits."""
        if not isinstance(token, str):
            raise InvalidValue(
                f"chat.users: a refresh token is text, not {type(token).__name__}",
                table="chat.users",
            )
        # surrogatepass: any str hashes (a lone surrogate never matches a token anyway).
        data = token.encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


@functools.cache
def default_key() -> TokenKey:
    """The key a `RefreshTokenRepository` uses when given none: `TokenKey.from_environment()`,
    read on first use and kept for the process (a key changed in the environment later
    is not seen; `default_key.cache_clear()` forgets it, as tests do)."""
    return TokenKey.from_environment()


def new_token() -> str:
    """A fresh raw refresh token: 32 random bytes as URL-safe text."""
    return secrets.token_urlsafe(32)


class RefreshTokenRepository(Repository):
    """Refresh tokens, hashed with the service's `TokenKey` before anything is sent:
    `key`, or else `default_key()` (from $TETHER_CHAT_TOKEN_KEY, read once per process).

    Each operation is one atomic statement. An expired, revoked, rotated or unknown
    token is simply not found: `rotate` returns None, and a stolen token used after
    its owner rotated it gets nothing.
    """

    __slots__ = ("_key",)

    ISSUE_REFRESH_TOKEN = Q.issue_refresh_token.returning(TokenGrant)
    ROTATE_REFRESH_TOKEN = Q.rotate_refresh_token.returning(TokenGrant)
    REVOKE_REFRESH_TOKEN = Q.revoke_refresh_token
    REVOKE_ALL_REFRESH_TOKENS = Q.revoke_all_refresh_tokens
    LIST_REFRESH_TOKENS = Q.list_refresh_tokens.returning(ActiveToken)

    def __init__(self, db: Database | Executor, key: TokenKey | None = None) -> None:
        super().__init__(db)
        if key is None:
            key = default_key()
        elif not isinstance(key, TokenKey):
            raise TypeError(
                f"RefreshTokenRepository: key is a tether.chat.TokenKey, not {type(key).__name__}"
            )
        self._key = key

    async def issue(
        self, user_id: uuid.UUID, ttl: dt.timedelta = DEFAULT_TOKEN_TTL
    ) -> RefreshToken:
        """A new refresh token for the user (sign-in). Of the user's other live tokens
        the newest 19 stay; expired ones go. NotFound if there is no such user."""
        token = new_token()
        grant = await self._get(
            self.ISSUE_REFRESH_TOKEN,
            "chat.users",
            user_id=user_id,
            token_hash=self._key.hash(token),
            ttl=ttl,
        )
        return RefreshToken(token, grant.user_id, grant.issued_at, grant.expires_at)

    async def rotate(
        self, token: str, ttl: dt.timedelta = DEFAULT_TOKEN_TTL
    ) -> RefreshToken | None:
        """Verify `token` and replace it with a new one, in one statement (refresh).

        None when the token is not live: expired, revoked, already rotated (a reuse:
        of two concurrent rotations of one token, exactly one gets a new token) or
        never issued. The new token's user is the old one's.
        """
        fresh = new_token()
        grant = await self._one(
            self.ROTATE_REFRESH_TOKEN,
            old_hash=self._key.hash(token),
            new_hash=self._key.hash(fresh),
            ttl=ttl,
        )
        if grant is None:
            return None
        return RefreshToken(fresh, grant.user_id, grant.issued_at, grant.expires_at)

    async def revoke(self, token: str) -> bool:
        """Revoke one token (sign-out on one device); False if it was not held."""
        return await self._execrows(self.REVOKE_REFRESH_TOKEN, token_hash=self._key.hash(token)) > 0

    async def revoke_all(self, user_id: uuid.UUID) -> bool:
        """Revoke every token of the user (sign-out everywhere); False if no such user."""
        return await self._execrows(self.REVOKE_ALL_REFRESH_TOKENS, user_id=user_id) > 0

    async def active(self, user_id: uuid.UUID) -> list[ActiveToken]:
        """When each live token of the user was issued and expires, oldest first."""
        return await self._many(self.LIST_REFRESH_TOKENS, user_id=user_id)
