"""docs/chat.md's service example (sign-in with a dummy hash for unknown e-mails, refresh
with a replay that revokes the family, a streamed reply through the owned forms) runs as
written, twice (it is safe to re-run)."""

import os
import secrets
import subprocess
import sys

from test_readme import example


def test_the_service_example_runs(tether_url):
    code = example("chat-service", "docs/chat.md")
    env = {
        **os.environ,
        "DATABASE_URL": tether_url,
        "TETHER_CHAT_TOKEN_KEY": secrets.token_urlsafe(48),
    }
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "True None",
            "2 ['I get a headache.', 'Drink water and ease the pace.']",
        ]
