"""docs/tutor.md's service example runs as a new user would run it, against a database
of its own, and prints what it says."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def example(name: str) -> str:
    text = (ROOT / "docs" / "tutor.md").read_text()
    block = re.search(
        rf"<!-- example:{name} -->\s*```python\n(.*?)```\s*<!-- /example:{name} -->", text, re.S
    )
    assert block, f"no example:{name} in docs/tutor.md"
    return block.group(1)


def test_the_worker_example_runs(tether_url):
    done = subprocess.run(
        [sys.executable, "-c", example("tutor-worker")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": tether_url},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "A perceptron weighs its inputs. It fires above a threshold.",
        "succeeded",
    ]
