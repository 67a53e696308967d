"""docs/tutor.md's service example runs as a new user would run it, against a database
of its own, and prints what it says."""

import os
import subprocess
import sys

from test_readme import example


def test_the_worker_example_runs(tether_url):
    done = subprocess.run(
        [sys.executable, "-c", example("tutor-worker", "docs/tutor.md")],
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
