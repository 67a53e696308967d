"""The tickets tests' Jira key ring: made up per test, in the environment; the
repositories' default ring (read once per process) forgotten around every test."""

import pytest

from tether.tickets import KEYS_VARIABLE, default_keys, new_key


@pytest.fixture(autouse=True)
def fresh_default_keys():
    """Each test reads $TETHER_JIRA_TOKEN_KEYS afresh, as a new process would."""
    default_keys.cache_clear()
    yield
    default_keys.cache_clear()


@pytest.fixture
def keys(monkeypatch) -> str:
    """$TETHER_JIRA_TOKEN_KEYS with one key, "k1", for the test; its value."""
    ring = f"k1:{new_key()}"
    monkeypatch.setenv(KEYS_VARIABLE, ring)
    return ring
