"""docs/chat.md's service example (sign-in, refresh with a refused reuse, a streamed
reply) runs as written, twice (it is safe to re-run)."""

import os
import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "chat.md"


def example(name: str) -> str:
    block = re.search(
        rf"<!-- example:{name} -->\s*```python\n(.*?)```\s*<!-- /example:{name} -->",
        PAGE.read_text(),
        re.S,
    )
    assert block, f"no example:{name} in docs/chat.md"
    return block.group(1)


def test_the_service_example_runs(tether_url):
    code = example("chat-service")
    env = {**os.environ, "DATABASE_URL": tether_url, "TETHER_CHAT_TOKEN_KEY": "k" * 48}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "True None",
            "2 ['I get a headache after running.', 'Drink water and ease the pace.']",
        ]
