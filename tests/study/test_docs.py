"""docs/study.md's service example runs as written: a service ingests chunks and
retrieves them by similarity in a few lines."""

import os
import subprocess
import sys
from pathlib import Path

from test_readme import example

ROOT = Path(__file__).resolve().parents[2]


def test_the_service_example_runs_twice(tether_url):
    for _ in range(2):  # it deletes what it made: safe to run again
        done = subprocess.run(
            [sys.executable, "-c", example("service", "docs/study.md")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "DATABASE_URL": tether_url},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "hnsw True ['A vector has a direction and a length. Its length is a square root.']"
        ]
    said = (ROOT / "docs" / "study.md").read_text()
    assert "It prints `hnsw True ['A vector has a direction and a length." in said
