"""Jira tokens encrypted at rest, before they leave Python: the key ring, and
`JiraTokenRepository`, which encrypts and decrypts with it.

The service sends its Jira tokens back to Jira, so they cannot be hashed: each is
encrypted with AES-256-GCM (authenticated encryption, `cryptography`), a fresh
12-byte nonce per value, stored as `nonce || ciphertext || tag` in a bytea column.
The associated data binds a ciphertext to its whole row: its column, its Jira
user, its key id, the row's `expires_at` and `scopes`, and the row's `version`, a
number drawn from a sequence for each write that the database only lets grow
(tickets_0003_token_versions). A value copied to another row or column, altered,
put back from an older write, or left in place under a later `expires_at` or more
scopes, does not decrypt. (Rows written before versions, `version` NULL, are bound
to their column, user and key id alone until rewritten: `rotate()` rewrites them.)

The keys come from the environment, as a key ring (`JiraTokenRepository` reads it once
per process by default, `default_keys()`, or takes a `KeyRing` as `keys=`):

    TETHER_JIRA_TOKEN_KEYS="k2:<key>,k1:<key>"

Each entry is `id:key`, the key 32 bytes in URL-safe base64 (`new_key()` makes
one). The first key encrypts; every key of the ring decrypts what it encrypted, by
the key id stored beside the tokens. To rotate: put a new key first, keep the old
ones, run `JiraTokenRepository.rotate()` (every token is encrypted again under the
new key, in batches; a row that does not decrypt is skipped and reported, never a
stop), deal with the rows it reports, then drop the old keys. A missing, malformed or wrong key is a
TokenKeyError (UnreadableToken for a key that does not decrypt), never garbage;
no message, repr or log carries a token or a key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

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
from tether.tickets.records import JiraToken, SkippedToken, StoredToken, TokenRotation

Q = queries.load("tickets")

KEYS_VARIABLE = "TETHER_JIRA_TOKEN_KEYS"
TABLE = "tickets.jira_auth_tokens"

_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
# Rows rotate() reads, decrypts and writes back per statement.
ROTATION_BATCH = 500
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

log = logging.getLogger("tether.tickets")


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

    def encrypt(self, row: Binding, column: str, token: str) -> bytes:
        """`token` encrypted under the current key, for `column` of `row`."""
        try:
            plain = token.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(
                f"{TABLE}: {column} is not valid text (it cannot be encoded as UTF-8)",
                table=TABLE,
            ) from None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(
            nonce, plain, _associated(row, column, self.current)
        )
        return nonce + sealed

    def decrypt(self, row: Binding, column: str, key_id: str | None, stored: bytes) -> str:
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
            plain = cipher.decrypt(nonce, sealed, _associated(row, column, key_id))
        except InvalidTag:
            raise UnreadableToken(
                f"{TABLE}: the stored {column} does not decrypt with key {key_id!r} of "
                f"${KEYS_VARIABLE}: that key is not the one it was encrypted with, or the "
                "row was altered (its tokens, expires_at, scopes or version)",
                table=TABLE,
            ) from None
        return plain.decode("utf-8")

    def open(self, row: StoredToken) -> JiraToken:
        """The row's tokens, decrypted."""
        binding = Binding.of(row)
        access = self.decrypt(binding, "access_token", row.key_id, row.access_token)
        refresh = None
        if row.refresh_token is not None:
            refresh = self.decrypt(binding, "refresh_token", row.key_id, row.refresh_token)
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


@frozen
class Binding:
    """The row a token's ciphertext is bound to (with its column and key id): its Jira
    user, version, expiry and scopes. `version` None: a row written before versions,
    bound to its user alone."""

    jira_user_id: str
    version: int | None
    expires_at: dt.datetime
    scopes: tuple[str, ...]

    @classmethod
    def of(cls, row: StoredToken) -> Binding:
        return cls(row.jira_user_id, row.version, row.expires_at, row.scopes)


def _associated(row: Binding, column: str, key_id: str) -> bytes:
    """What a ciphertext is bound to, as bytes: its table and column, its key, and the
    row. The expiry as microseconds since 1970 UTC (as timestamptz keeps it; a naive
    time is UTC, as asyncpg sends it), the scopes as a JSON list."""
    parts = [TABLE, column, row.jira_user_id, key_id]
    if row.version is not None:
        expires = row.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        micros = (expires - _EPOCH) // dt.timedelta(microseconds=1)
        parts += [str(row.version), str(micros), json.dumps(list(row.scopes))]
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
    NEXT_TOKEN_VERSIONS = Q.next_token_versions

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
        """Store (or replace) a Jira user's tokens, encrypted under the current key and
        bound to a new row version (a Conflict if a newer one was stored meanwhile)."""
        _text(jira_user_id, "jira_user_id")
        _text(access_token, "access_token")
        if refresh_token is not None:
            _text(refresh_token, "refresh_token")
        if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
            raise InvalidValue(f"{TABLE}: scopes must be a list of str", table=TABLE)
        if not isinstance(expires_at, dt.datetime):
            raise InvalidValue(
                f"{TABLE}: expires_at must be a datetime, not {type(expires_at).__name__}",
                table=TABLE,
            )
        [version] = await self._versions(1)
        row = Binding(jira_user_id, version, expires_at, tuple(scopes))
        stored = await self._returning(
            self.UPSERT_TOKEN,
            jira_user_id=jira_user_id,
            access_token=self._keys.encrypt(row, "access_token", access_token),
            refresh_token=None
            if refresh_token is None
            else self._keys.encrypt(row, "refresh_token", refresh_token),
            expires_at=expires_at,
            scopes=list(scopes),
            key_id=self._keys.current,
            version=version,
        )
        return self._keys.open(stored)

    async def _versions(self, count: int) -> list[int]:
        """`count` new row versions, increasing."""
        versions: list[int] = await self._val(self.NEXT_TOKEN_VERSIONS, count=count)
        return versions

    async def get(self, jira_user_id: str) -> JiraToken:
        """The user's tokens, decrypted; NotFound if there are none."""
        stored = await self._get(self.GET_TOKEN, TABLE, jira_user_id=jira_user_id)
        return self._keys.open(stored)

    async def delete(self, jira_user_id: str) -> bool:
        return await self._execrows(self.DELETE_TOKEN, jira_user_id=jira_user_id) > 0

    async def rotate(self, batch: int = ROTATION_BATCH) -> TokenRotation:
        """Encrypt again under the current key every token another key encrypted (and
        every row written before versions), `batch` rows per statement. A row that
        does not decrypt with the ring (its key dropped, no key id, altered) is
        skipped, logged and reported by Jira user id with why; the others rotate all
        the same. A row written meanwhile (a new version) is left as it is."""
        rotated, skipped, after = 0, [], ""
        while stale := await self._many(
            self.TOKENS_TO_ROTATE, key_id=self._keys.current, after=after, batch=batch
        ):
            after = stale[-1].jira_user_id
            opened = []
            for row in stale:
                try:
                    opened.append((row, self._keys.open(row)))
                except (TokenKeyError, UnreadableToken) as error:
                    skipped.append(SkippedToken(row.jira_user_id, str(error)))
            if opened:
                rotated += await self._reencrypt(opened)
        if skipped:
            log.warning(
                "%s: rotate() skipped %d token(s) that do not decrypt: %s",
                TABLE,
                len(skipped),
                ", ".join(token.jira_user_id for token in skipped),
            )
        return TokenRotation(rotated, tuple(skipped))

    async def _reencrypt(self, opened: list[tuple[StoredToken, JiraToken]]) -> int:
        versions = await self._versions(len(opened))
        rows = [
            Binding(row.jira_user_id, version, row.expires_at, row.scopes)
            for (row, _), version in zip(opened, versions, strict=True)
        ]
        return await self._execrows(
            self.REENCRYPT_TOKENS,
            key_id=self._keys.current,
            jira_user_ids=[row.jira_user_id for row, _ in opened],
            old_versions=[row.version for row, _ in opened],
            access_tokens=[
                self._keys.encrypt(row, "access_token", token.access_token)
                for row, (_, token) in zip(rows, opened, strict=True)
            ],
            refresh_tokens=[
                None
                if token.refresh_token is None
                else self._keys.encrypt(row, "refresh_token", token.refresh_token)
                for row, (_, token) in zip(rows, opened, strict=True)
            ],
            versions=versions,
        )


def _text(value: Any, column: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(
            f"{TABLE}: {column} must be str, not {type(value).__name__}", table=TABLE
        )
    if column != "jira_user_id" and not value:
        raise InvalidValue(f"{TABLE}: {column} must not be empty", table=TABLE)
    if not value.isascii():  # checked before a version is drawn: nothing is sent
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(
                f"{TABLE}: {column} is not valid text (it cannot be encoded as UTF-8)",
                table=TABLE,
            ) from None
