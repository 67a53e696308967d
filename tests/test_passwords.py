"""tether.passwords: scrypt hashes in PHC format, verified with the parameters they name."""

import base64
import hashlib
import re

import pytest

from tether.passwords import (
    DEFAULT_COST,
    MAX_COST,
    MIN_COST,
    hash_password,
    needs_rehash,
    verify_password,
)

PHC = re.compile(r"\$scrypt\$ln=(\d+),r=8,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})")


def test_a_hash_is_a_phc_string_that_hashlib_scrypt_reproduces():
    made = hash_password("correct horse battery staple", cost=MIN_COST)
    cost, salt, digest = PHC.fullmatch(made).groups()
    assert int(cost) == MIN_COST
    again = hashlib.scrypt(
        b"correct horse battery staple",
        salt=base64.b64decode(salt + "=="),
        n=2**MIN_COST,
        r=8,
        p=1,
        dklen=32,
    )
    assert base64.b64encode(again).decode().rstrip("=") == digest


def test_the_default_is_owasps_cost_and_verifies():
    made = hash_password("s3cret")
    assert made.startswith(f"$scrypt$ln={DEFAULT_COST},r=8,p=1$") and DEFAULT_COST == 17
    assert verify_password("s3cret", made)
    assert not verify_password("s3cret ", made)


def test_each_hash_has_its_own_salt():
    assert hash_password("same", cost=MIN_COST) != hash_password("same", cost=MIN_COST)


@pytest.mark.parametrize("password", ["", "ü", "pass word", "\U0001f511" * 100])
def test_verify_accepts_the_password_and_refuses_any_other(password):
    made = hash_password(password, cost=MIN_COST)
    assert verify_password(password, made)
    assert not verify_password(password + "x", made)


def test_verify_reads_the_parameters_the_hash_names():
    # A hash made elsewhere with other parameters (r=4, p=2, a 16-byte hash) still checks.
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**11, r=4, p=2, dklen=16)
    b64 = [base64.b64encode(part).decode().rstrip("=") for part in (salt, digest)]
    foreign = f"$scrypt$ln=11,r=4,p=2${b64[0]}${b64[1]}"
    assert verify_password("pw", foreign)
    assert not verify_password("pW", foreign)
    assert needs_rehash(foreign)


def test_needs_rehash_when_the_cost_is_not_todays():
    cheap = hash_password("pw", cost=MIN_COST)
    assert needs_rehash(cheap)
    assert not needs_rehash(cheap, cost=MIN_COST)


@pytest.mark.parametrize(
    "stored",
    [
        "scrypt$16384$8$1$c2FsdA==$aGFzaA==",  # the old chat demo's format
        "$2b$12$abcdefghijklmnopqrstuv",  # bcrypt
        "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",  # a stall
        "$scrypt$ln=14,r=8,p=1$not*base64$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA",  # a 4-byte hash
    ],
)
def test_a_hash_that_is_no_scrypt_phc_string_is_refused_without_showing_it(stored):
    with pytest.raises(ValueError, match="password hash") as refused:
        verify_password("pw", stored)
    assert stored not in str(refused.value) and "pw" not in str(refused.value).split()


@pytest.mark.parametrize("cost", [MIN_COST - 1, MAX_COST + 1, True, 12.0])
def test_a_cost_out_of_range_is_refused(cost):
    with pytest.raises(ValueError, match="cost"):
        hash_password("pw", cost=cost)


def test_a_password_is_text():
    with pytest.raises(TypeError, match="a password is str, not bytes"):
        hash_password(b"pw", cost=MIN_COST)
