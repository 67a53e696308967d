"""Refresh tokens: made by tether, kept in the database only as their keyed hash, in
families that recognise a stolen token; the keys, and `RefreshTokenRepository`.

A raw token is 32 random bytes (`secrets.token_urlsafe`, 43 characters): it goes to
the client once and never to the database. What is stored, and looked up, is its
HMAC-SHA256 under a key of the service's (`TokenKey`), as 64 hex digits, beside the
key's id.

Why a keyed hash and not a salted one: a salt per token makes the hash impossible to
look up, so the raw token would have to carry its user's id; an HMAC is the same for
the same token, so the token stays opaque and the database finds its user through
an index. Why not a password hash (bcrypt, argon2): those are slow on purpose, to
make guessing a *weak* secret expensive; a 256-bit random token cannot be guessed,
and a slow hash would only slow every refresh. The key adds what a bare SHA-256
would not: a copy of the database alone (a leaked backup) does not let anyone check
a token they hold or forge a lookup, and hashes of two deployments never match.

Keys, from the environment (`TokenKeys.from_environment`):

    TETHER_CHAT_TOKEN_KEY="k2:<secret>,k1:<secret>"

The first key hashes new tokens; every key verifies (a presented token is hashed
under each, and the database looks for any of them), so a key is rotated without
ending a session: put the new one first, and drop the old one once the tokens it
hashed have expired. A value without ids (one secret) is the key `default`.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import hmac
import math
import os
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping

from attrs import field, frozen

from tether import queries
from tether.chat.errors import TokenReuse
from tether.chat.records import ActiveToken, RefreshToken, Rotation, TokenGrant
from tether.database import Database
from tether.errors import InvalidValue
from tether.repository import Executor, Repository

Q = queries.load("chat")

# Where TokenKeys.from_environment looks for the keys.
KEY_VARIABLE = "TETHER_CHAT_TOKEN_KEY"
# The id of a key given without one (the format before key ids).
DEFAULT_KEY_ID = "default"
MIN_KEY_BYTES = 32
# A key's bytes must carry at least this much (Shannon entropy of its byte counts
# times its length): a repeated or patterned secret does not.
MIN_KEY_BITS = 128
GENERATE_HINT = "generate one with `openssl rand -base64 48`"
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# How long a refresh token lives unless the caller says otherwise; each rotation
# starts a new one, up to its family's lifetime.
DEFAULT_TOKEN_TTL = dt.timedelta(days=30)
# How long one sign-in's chain of rotations lasts at most, however often it is used.
DEFAULT_FAMILY_LIFETIME = dt.timedelta(days=90)
# How long after a rotation the token it replaced may be presented once more (a
# client that lost the response retries) without counting as reuse.
DEFAULT_REUSE_GRACE = dt.timedelta(seconds=10)


def _estimated_bits(secret: bytes) -> float:
    counts = collections.Counter(secret)
    return -sum(n * math.log2(n / len(secret)) for n in counts.values())


def _strong(_: object, __: object, secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_KEY_BYTES:
        raise ValueError(f"a refresh-token key is at least {MIN_KEY_BYTES} bytes: {GENERATE_HINT}")
    if _estimated_bits(secret) < MIN_KEY_BITS:
        raise ValueError(
            f"a refresh-token key is random, not a repeated or patterned text: {GENERATE_HINT}"
        )


def _valid_id(_: object, __: object, key_id: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("a refresh-token key id is 1 to 64 letters, digits, '.', '_' or '-'")


@frozen
class TokenKey:
    """A secret refresh tokens are hashed with (HMAC-SHA256), and its id, stored beside
    each hash it made: the service's, from its environment or secret store, never from a
    file in a repository. It never shows in a repr."""

    secret: bytes = field(repr=False, validator=_strong)
    key_id: str = field(default=DEFAULT_KEY_ID, validator=_valid_id)

    @classmethod
    def generate(cls, key_id: str = DEFAULT_KEY_ID) -> TokenKey:
        """A random key, for tests and demos: tokens hashed with it die with the process."""
        return cls(secrets.token_bytes(MIN_KEY_BYTES), key_id)

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


def _as_tuple(keys: Iterable[TokenKey]) -> tuple[TokenKey, ...]:
    return tuple(keys)


@frozen
class TokenKeys:
    """The keys of a service, the first one signing (hashing new tokens), all verifying."""

    keys: tuple[TokenKey, ...] = field(converter=_as_tuple)

    @keys.validator
    def _check(self, _: object, keys: tuple[TokenKey, ...]) -> None:
        if not keys or not all(isinstance(key, TokenKey) for key in keys):
            raise ValueError("TokenKeys holds at least one tether.chat.TokenKey")
        ids = [key.key_id for key in keys]
        if len(set(ids)) < len(ids):
            raise ValueError("each refresh-token key has its own id")

    @property
    def signing(self) -> TokenKey:
        return self.keys[0]

    def hashes(self, token: str) -> list[str]:
        """The hash of `token` under each key: what a presented token may be stored as."""
        return [key.hash(token) for key in self.keys]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> TokenKeys:
        """The keys in $TETHER_CHAT_TOKEN_KEY: `id:secret[,id:secret...]`, or one secret
        without an id (the key `default`), each secret's UTF-8 bytes, at least 32 of them
        and random. Read each call: repositories default to `default_keys()`, which reads
        it once per process."""
        value = environ.get(KEY_VARIABLE, "").strip()
        if not value:
            raise ValueError(
                f"set ${KEY_VARIABLE} to a secret of at least {MIN_KEY_BYTES} bytes: "
                f"{GENERATE_HINT}"
            )
        if ":" not in value:
            return cls([TokenKey(value.encode())])
        keys = []
        for number, entry in enumerate(value.split(","), start=1):
            key_id, colon, secret = entry.strip().partition(":")
            if not colon:
                raise ValueError(f"entry {number} of ${KEY_VARIABLE} is not 'id:secret'")
            try:
                keys.append(TokenKey(secret.strip().encode(), key_id.strip()))
            except ValueError as error:
                raise ValueError(f"entry {number} of ${KEY_VARIABLE}: {error}") from None
        return cls(keys)


@functools.cache
def default_keys() -> TokenKeys:
    """The keys a `RefreshTokenRepository` uses when given none: `TokenKeys.from_environment()`,
    read on first use and kept for the process (a key changed in the environment later
    is not seen; `default_keys.cache_clear()` forgets it, as tests do)."""
    return TokenKeys.from_environment()


def _check_ttl(ttl: dt.timedelta) -> None:
    # An entry expiring at once would be dropped by the write that adds it.
    if ttl <= dt.timedelta(0):
        raise InvalidValue(
            "chat.users: a refresh token must expire after it is issued (ttl > 0)",
            table="chat.users",
        )


def new_token() -> str:
    """A fresh raw refresh token: 32 random bytes as URL-safe text."""
    return secrets.token_urlsafe(32)


class RefreshTokenRepository(Repository):
    """Refresh tokens, hashed before anything is sent with `key` (a `TokenKey`, or the
    `TokenKeys` of a key rotation), or else `default_keys()` (from $TETHER_CHAT_TOKEN_KEY,
    read once per process).

    Each operation is one atomic statement. Tokens come in families, one per sign-in:
    `rotate` spends a token and hands out its successor; a spent token presented again
    revokes its whole family (`TokenReuse`), except the one just replaced, once, within
    `grace` (a client retrying a lost response). No family outlives `lifetime`. An
    expired, revoked or unknown token is simply not found: `rotate` returns None.
    """

    __slots__ = ("_grace", "_keys", "_lifetime")

    ISSUE_REFRESH_TOKEN = Q.issue_refresh_token.returning(TokenGrant)
    ROTATE_REFRESH_TOKEN = Q.rotate_refresh_token.returning(Rotation)
    REVOKE_REFRESH_TOKEN = Q.revoke_refresh_token
    REVOKE_ALL_REFRESH_TOKENS = Q.revoke_all_refresh_tokens
    LIST_REFRESH_TOKENS = Q.list_refresh_tokens.returning(ActiveToken)

    def __init__(
        self,
        db: Database | Executor,
        key: TokenKey | TokenKeys | None = None,
        *,
        lifetime: dt.timedelta = DEFAULT_FAMILY_LIFETIME,
        grace: dt.timedelta = DEFAULT_REUSE_GRACE,
    ) -> None:
        super().__init__(db)
        if key is None:
            key = default_keys()
        elif isinstance(key, TokenKey):
            key = TokenKeys([key])
        elif not isinstance(key, TokenKeys):
            raise TypeError(
                "RefreshTokenRepository: key is a tether.chat.TokenKey or TokenKeys, not "
                f"{type(key).__name__}"
            )
        if lifetime <= dt.timedelta(0) or grace < dt.timedelta(0):
            raise ValueError("RefreshTokenRepository: lifetime is positive and grace not negative")
        self._keys = key
        self._lifetime = lifetime
        self._grace = grace

    async def issue(
        self, user_id: uuid.UUID, ttl: dt.timedelta = DEFAULT_TOKEN_TTL
    ) -> RefreshToken:
        """A new refresh token for the user, the first of a new family (sign-in). Of the
        user's other live tokens the newest 19 stay; expired ones go. NotFound if there
        is no such user."""
        _check_ttl(ttl)
        token, signing = new_token(), self._keys.signing
        grant = await self._get(
            self.ISSUE_REFRESH_TOKEN,
            "chat.users",
            user_id=user_id,
            token_hash=signing.hash(token),
            key_id=signing.key_id,
            ttl=ttl,
            lifetime=self._lifetime,
        )
        return RefreshToken(token, grant.user_id, grant.issued_at, grant.expires_at)

    async def rotate(
        self, token: str, ttl: dt.timedelta = DEFAULT_TOKEN_TTL
    ) -> RefreshToken | None:
        """Verify `token` and hand out its successor, in one statement (refresh). The
        successor expires after `ttl`, never after the family's lifetime.

        None when the token is not known: expired, revoked, past its family's
        lifetime, or never issued. TokenReuse when it was already rotated (a copy
        used by a thief, or by its owner after the thief): the whole family is revoked
        in the same statement, whoever holds its newest token signs in again. The one
        exception is a retry: the token replaced less than `grace` ago, presented once
        more while its successor is unused, gets a new successor and the first is
        revoked (of two concurrent rotations of one token, both get a token and only
        the second's lives).
        """
        _check_ttl(ttl)
        fresh, signing = new_token(), self._keys.signing
        rotation = await self._one(
            self.ROTATE_REFRESH_TOKEN,
            old_hashes=self._keys.hashes(token),
            new_hash=signing.hash(fresh),
            key_id=signing.key_id,
            ttl=ttl,
            lifetime=self._lifetime,
            grace=self._grace,
        )
        if rotation is None:
            return None
        if not rotation.rotated:
            raise TokenReuse(
                "chat.users: a refresh token was presented after it had been rotated: "
                "every token of its sign-in (its family) is revoked",
                table="chat.users",
                user_id=rotation.user_id,
                family=rotation.family,
            )
        assert rotation.issued_at is not None
        assert rotation.expires_at is not None
        return RefreshToken(fresh, rotation.user_id, rotation.issued_at, rotation.expires_at)

    async def revoke(self, token: str) -> bool:
        """Revoke one live token (sign-out on one device); False if it was not held."""
        return (
            await self._execrows(self.REVOKE_REFRESH_TOKEN, token_hashes=self._keys.hashes(token))
            > 0
        )

    async def revoke_all(self, user_id: uuid.UUID) -> bool:
        """Revoke every token of the user (sign-out everywhere); False if no such user."""
        return await self._execrows(self.REVOKE_ALL_REFRESH_TOKENS, user_id=user_id) > 0

    async def active(self, user_id: uuid.UUID) -> list[ActiveToken]:
        """When each live token of the user was issued and expires, oldest first."""
        return await self._many(self.LIST_REFRESH_TOKENS, user_id=user_id)
