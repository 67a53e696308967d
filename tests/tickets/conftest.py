"""The tickets tests' Jira key ring: made up per test, in the environment only."""

import pytest

from tether.tickets import KEYS_VARIABLE, new_key


@pytest.fixture
def keys(monkeypatch) -> str:
    """$TETHER_JIRA_TOKEN_KEYS with one key, "k1", for the test; its value."""
    ring = f"k1:{new_key()}"
    monkeypatch.setenv(KEYS_VARIABLE, ring)
    return ring
