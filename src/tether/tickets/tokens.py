"""Jira tokens encrypted at rest, before they leave Python: the key ring, and
`JiraTokenRepository`, which encrypts and decrypts with it.

The service sends its Jira tokens back to Jira, so they cannot be hashed: each is
encrypted with AES-256-GCM (authenticated encryption, `cryptography`), a fresh
12-byte nonce per value, stored as `nonce || ciphertext || tag` in a bytea column.
The associated data binds a ciphertext to its column, its Jira user and its key
id, so a value copied to another row or column, or altered, does not decrypt.

The keys come from the environment, as a key ring (`JiraTokenRepository` reads it once
per process by default, `default_keys()`, or takes a `KeyRing` as `keys=`):

    TETHER_JIRA_TOKEN_KEYS="k2:<key>,k1:<key>"

Each entry is `id:key`, the key 32 bytes in URL-safe base64 (`new_key()` makes
one). The first key encrypts; every key of the ring decrypts what it encrypted, by
the key id stored beside the tokens. To rotate: put a new key first, keep the old
ones, run `JiraTokenRepository.rotate()` (every token is encrypted again under the
new key), then drop the old keys. A missing, malformed or wrong key is a
TokenKeyError (UnreadableToken for a key that does not decrypt), never garbage;
no message, repr or log carries a token or a key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tether.extras import missing

try:  # the tickets extra's
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ModuleNotFoundError as error:
    raise missing("tickets", "tether.tickets", error) from error

from tether import queries
from tether.database import Database
from tether.errors import InvalidValue
from tether.repository import Executor, Repository
from tether.tickets.errors import TokenKeyError, UnreadableToken
from tether.tickets.records import JiraToken, StoredToken

Q = queries.load("tickets")

KEYS_VARIABLE = "TETHER_JIRA_TOKEN_KEYS"
TABLE = "tickets.jira_auth_tokens"

_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16


def new_key() -> str:
    """A new random AES-256 key, as the key ring holds it (URL-safe base64)."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


class KeyRing:
    """The keys that encrypt and decrypt Jira tokens, by id; the first one encrypts."""

    __slots__ = ("_ciphers", "current")

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise TokenKeyError(f"{TABLE}: the key ring holds no key", table=TABLE)
        self._ciphers: dict[str, AESGCM] = {}
        for key_id, secret in keys:
            if not _KEY_ID.fullmatch(key_id):
                raise TokenKeyError(
                    f"{TABLE}: a key id is 1 to 64 letters, digits, '.', '_' or '-'", table=TABLE
                )
            if key_id in self._ciphers:
                raise TokenKeyError(f"{TABLE}: key id {key_id!r} is in the ring twice", table=TABLE)
            if len(secret) != _KEY_BYTES:
                raise TokenKeyError(
                    f"{TABLE}: key {key_id!r} is not {_KEY_BYTES} bytes long", table=TABLE
                )
            self._ciphers[key_id] = AESGCM(secret)
        self.current = keys[0][0]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> KeyRing:
        """The ring in $TETHER_JIRA_TOKEN_KEYS, read each call (parsed once per distinct
        value); repositories default to `default_keys()`, read once per process."""
        text = environ.get(KEYS_VARIABLE, "").strip()
        if not text:
            raise TokenKeyError(
                f"{TABLE}: no key for Jira tokens: set ${KEYS_VARIABLE} to 'id:key[,id:key...]' "
                "(the first key encrypts; each key is 32 bytes in URL-safe base64, "
                "see tether.tickets.tokens.new_key)",
                table=TABLE,
            )
        return _parsed(text)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def __repr__(self) -> str:
        return f"KeyRing(ids={list(self._ciphers)!r}, current={self.current!r})"

    def encrypt(self, jira_user_id: str, column: str, token: str) -> bytes:
        """`token` encrypted under the current key, for `column` of `jira_user_id`'s row."""
        try:
            plain = token.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(
                f"{TABLE}: {column} is not valid text (it cannot be encoded as UTF-8)",
                table=TABLE,
            ) from None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(
            nonce, plain, _associated(jira_user_id, column, self.current)
        )
        return nonce + sealed

    def decrypt(self, jira_user_id: str, column: str, key_id: str | None, stored: bytes) -> str:
        if key_id is None:
            raise TokenKeyError(
                f"{TABLE}: the {column} of this row has no key id (it was not written by "
                "tether), so it cannot be decrypted",
                table=TABLE,
            )
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise TokenKeyError(
                f"{TABLE}: the {column} of this row was encrypted under key {key_id!r}, which "
                f"${KEYS_VARIABLE} does not hold (it holds {', '.join(self._ciphers)})",
                table=TABLE,
            )
        if len(stored) < _NONCE_BYTES + _TAG_BYTES:
            raise UnreadableToken(f"{TABLE}: the stored {column} is too short", table=TABLE)
        nonce, sealed = stored[:_NONCE_BYTES], stored[_NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, _associated(jira_user_id, column, key_id))
        except InvalidTag:
            raise UnreadableToken(
                f"{TABLE}: the stored {column} does not decrypt with key {key_id!r} of "
                f"${KEYS_VARIABLE}: that key is not the one it was encrypted with, or the "
                "stored value was altered",
                table=TABLE,
            ) from None
        return plain.decode("utf-8")

    def open(self, row: StoredToken) -> JiraToken:
        """The row's tokens, decrypted."""
        access = self.decrypt(row.jira_user_id, "access_token", row.key_id, row.access_token)
        refresh = None
        if row.refresh_token is not None:
            refresh = self.decrypt(row.jira_user_id, "refresh_token", row.key_id, row.refresh_token)
        assert row.key_id is not None  # decrypt refused a row without one
        return JiraToken(
            row.jira_user_id,
            access,
            refresh,
            row.expires_at,
            row.scopes,
            row.updated_at,
            row.key_id,
        )


@functools.cache
def default_keys() -> KeyRing:
    """The ring a `JiraTokenRepository` uses when given none: `KeyRing.from_environment()`,
    read on first use and kept for the process (to rotate, restart with the new ring,
    or pass `keys=`; `default_keys.cache_clear()` forgets it, as tests do)."""
    return KeyRing.from_environment()


def _associated(jira_user_id: str, column: str, key_id: str) -> bytes:
    """What a ciphertext is bound to: its table and column, its Jira user, its key."""
    parts = (TABLE, column, jira_user_id, key_id)
    return b"\x00".join(part.encode("utf-8", "surrogatepass") for part in parts)


@functools.lru_cache(maxsize=4)
def _parsed(text: str) -> KeyRing:
    keys = []
    for number, entry in enumerate(text.split(","), start=1):
        key_id, colon, encoded = entry.strip().partition(":")
        try:
            if not colon:
                raise ValueError("no colon")
            secret = base64.urlsafe_b64decode(encoded.strip() + "=" * (-len(encoded.strip()) % 4))
        except (ValueError, binascii.Error):
            raise TokenKeyError(
                f"{TABLE}: entry {number} of ${KEYS_VARIABLE} is not 'id:key' with the key in "
                "URL-safe base64",
                table=TABLE,
            ) from None
        keys.append((key_id.strip(), secret))
    return KeyRing(keys)


class JiraTokenRepository(Repository):
    """Jira OAuth tokens per Jira user, encrypted before they leave Python with `keys`,
    or else `default_keys()`: $TETHER_JIRA_TOKEN_KEYS, read once per process (see
    tether.tickets.tokens)."""

    __slots__ = ("_keys",)

    UPSERT_TOKEN = Q.upsert_token.returning(StoredToken)
    GET_TOKEN = Q.get_token.returning(StoredToken)
    DELETE_TOKEN = Q.delete_token
    TOKENS_TO_ROTATE = Q.tokens_to_rotate.returning(StoredToken)
    REENCRYPT_TOKENS = Q.reencrypt_tokens

    def __init__(self, db: Database | Executor, keys: KeyRing | None = None) -> None:
        super().__init__(db)
        if keys is None:
            keys = default_keys()
        elif not isinstance(keys, KeyRing):
            raise TypeError(
                f"JiraTokenRepository: keys is a tether.tickets.KeyRing, not {type(keys).__name__}"
            )
        self._keys = keys

    async def upsert(
        self,
        jira_user_id: str,
        access_token: str,
        refresh_token: str | None,
        expires_at: dt.datetime,
        scopes: Sequence[str] = (),
    ) -> JiraToken:
        """Store (or replace) a Jira user's tokens, encrypted under the current key."""
        _text(jira_user_id, "jira_user_id")
        _text(access_token, "access_token")
        if refresh_token is not None:
            _text(refresh_token, "refresh_token")
        if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
            raise InvalidValue(f"{TABLE}: scopes must be a list of str", table=TABLE)
        stored = await self._returning(
            self.UPSERT_TOKEN,
            jira_user_id=jira_user_id,
            access_token=self._keys.encrypt(jira_user_id, "access_token", access_token),
            refresh_token=None
            if refresh_token is None
            else self._keys.encrypt(jira_user_id, "refresh_token", refresh_token),
            expires_at=expires_at,
            scopes=list(scopes),
            key_id=self._keys.current,
        )
        return self._keys.open(stored)

    async def get(self, jira_user_id: str) -> JiraToken:
        """The user's tokens, decrypted; NotFound if there are none."""
        stored = await self._get(self.GET_TOKEN, TABLE, jira_user_id=jira_user_id)
        return self._keys.open(stored)

    async def delete(self, jira_user_id: str) -> bool:
        return await self._execrows(self.DELETE_TOKEN, jira_user_id=jira_user_id) > 0

    async def rotate(self) -> int:
        """Encrypt every token that another key encrypted again under the current key;
        return how many rows were rewritten. Every old key must still be in the ring:
        a token that does not decrypt stops the call before anything is written. A
        token replaced meanwhile (already under the current key) is left alone."""
        stale = await self._many(self.TOKENS_TO_ROTATE, key_id=self._keys.current)
        if not stale:
            return 0
        opened = [self._keys.open(row) for row in stale]
        return await self._execrows(
            self.REENCRYPT_TOKENS,
            key_id=self._keys.current,
            jira_user_ids=[t.jira_user_id for t in opened],
            old_access_tokens=[row.access_token for row in stale],
            access_tokens=[
                self._keys.encrypt(t.jira_user_id, "access_token", t.access_token) for t in opened
            ],
            refresh_tokens=[
                None
                if t.refresh_token is None
                else self._keys.encrypt(t.jira_user_id, "refresh_token", t.refresh_token)
                for t in opened
            ],
        )


def _text(value: Any, column: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(
            f"{TABLE}: {column} must be str, not {type(value).__name__}", table=TABLE
        )
    if column != "jira_user_id" and not value:
        raise InvalidValue(f"{TABLE}: {column} must not be empty", table=TABLE)
