"""Password hashes as a service stores them through tether: scrypt, in PHC string format.

    $scrypt$ln=17,r=8,p=1$<salt>$<hash>

`ln` is log2 of scrypt's N, the salt 16 random bytes and the hash 32 bytes, both in
base64 without padding (the PHC string format's encoding). The defaults are OWASP's
for scrypt: N=2^17, r=8, p=1 (128 MiB and a few hundred milliseconds a hash, on
purpose: guessing a weak password from a leaked hash costs as much per guess).
The string carries its own parameters, so `verify_password` checks a hash made at
any cost, and `needs_rehash` says when a service should hash again at sign-in.

The password itself never reaches the database, and nothing here puts a password
or a hash into an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from attrs import frozen

# OWASP's scrypt parameters: N = 2**DEFAULT_COST, r=8, p=1.
DEFAULT_COST = 17
BLOCK_SIZE = 8
PARALLELISM = 1
SALT_BYTES = 16
HASH_BYTES = 32
# Costs a stored hash may name: below 10 it protects nothing, above 20 one check
# takes seconds and 1 GiB (a hash with ln=40 must not stall a sign-in).
MIN_COST, MAX_COST = 10, 20

_PHC = re.compile(
    r"\$scrypt\$ln=(?P<ln>\d{1,2}),r=(?P<r>\d{1,2}),p=(?P<p>\d{1,2})"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)


@frozen
class _Parsed:
    cost: int
    block_size: int
    parallelism: int
    salt: bytes
    digest: bytes


def hash_password(password: str, *, cost: int = DEFAULT_COST) -> str:
    """A new PHC-format scrypt hash of `password` with a fresh random salt.

    `cost` is log2 of scrypt's N (MIN_COST to MAX_COST); keep the default outside
    tests and demos, which may pass a cheaper one."""
    _check_cost(cost)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(_encoded(password), salt, cost, BLOCK_SIZE, PARALLELISM, HASH_BYTES)
    return f"$scrypt$ln={cost},r={BLOCK_SIZE},p={PARALLELISM}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, phc: str) -> bool:
    """Whether `password` is the one `phc` was made from, with the parameters `phc`
    names (compared in constant time). ValueError if `phc` is no scrypt PHC string."""
    parsed = _parse(phc)
    digest = _scrypt(
        _encoded(password),
        parsed.salt,
        parsed.cost,
        parsed.block_size,
        parsed.parallelism,
        len(parsed.digest),
    )
    return hmac.compare_digest(digest, parsed.digest)


def needs_rehash(phc: str, *, cost: int = DEFAULT_COST) -> bool:
    """Whether `phc` was made with other parameters than today's (`cost`, r=8, p=1):
    after a successful sign-in, hash the password again and store the new hash."""
    parsed = _parse(phc)
    return (parsed.cost, parsed.block_size, parsed.parallelism) != (
        cost,
        BLOCK_SIZE,
        PARALLELISM,
    )


def _parse(phc: str) -> _Parsed:
    found = _PHC.fullmatch(phc) if isinstance(phc, str) else None
    if found is None:
        raise ValueError("not a scrypt password hash in PHC format ($scrypt$ln=..,r=..,p=..$..$..)")
    cost, block_size, parallelism = int(found["ln"]), int(found["r"]), int(found["p"])
    _check_cost(cost)
    if not 1 <= block_size <= 32 or not 1 <= parallelism <= 16:
        raise ValueError("a scrypt password hash names r from 1 to 32 and p from 1 to 16")
    try:
        salt, digest = _unb64(found["salt"]), _unb64(found["hash"])
    except binascii.Error:
        raise ValueError("a scrypt password hash holds its salt and hash in base64") from None
    if len(digest) < 16:
        raise ValueError("a scrypt password hash holds a hash of at least 16 bytes")
    return _Parsed(cost, block_size, parallelism, salt, digest)


def _check_cost(cost: int) -> None:
    if isinstance(cost, bool) or not isinstance(cost, int) or not MIN_COST <= cost <= MAX_COST:
        raise ValueError(f"a password hash's cost (log2 of N) is from {MIN_COST} to {MAX_COST}")


def _encoded(password: str) -> bytes:
    if not isinstance(password, str):
        raise TypeError(f"a password is str, not {type(password).__name__}")
    return password.encode("utf-8", "surrogatepass")


def _scrypt(
    password: bytes, salt: bytes, cost: int, block_size: int, parallelism: int, length: int
) -> bytes:
    n = 2**cost
    # scrypt needs 128 * r * N bytes (plus p times 128 * r); hashlib's default cap is 32 MiB.
    memory = 128 * block_size * (n + parallelism) + 1024 * 1024
    return hashlib.scrypt(
        password,
        salt=salt,
        n=n,
        r=block_size,
        p=parallelism,
        maxmem=memory,
        dklen=length,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
