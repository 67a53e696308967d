"""Jira tokens encrypted at rest, before they leave Python.

The service sends its Jira tokens back to Jira, so they cannot be hashed: each is
encrypted with AES-256-GCM (authenticated encryption, `cryptography`), a fresh
12-byte nonce per value, stored as `nonce || ciphertext || tag` in a bytea column.
The associated data binds a ciphertext to its column, its Jira user and its key
id, so a value copied to another row or column, or altered, does not decrypt.

The keys come from the environment only, as a key ring:

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
import functools
import os
import re
from collections.abc import Mapping, Sequence

from tether.extras import missing

try:  # the tickets extra's
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ModuleNotFoundError as error:
    raise missing("tickets", "tether.tickets", error) from error

from tether.errors import InvalidValue
from tether.tickets.errors import TokenKeyError, UnreadableToken
from tether.tickets.records import JiraToken, StoredToken

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
        """The ring in $TETHER_JIRA_TOKEN_KEYS (parsed once per distinct value)."""
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
