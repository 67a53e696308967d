"""docs/study.md's service example runs as written: a service ingests chunks and
retrieves them by similarity in a few lines."""

from pathlib import Path

from test_readme import example, run_example

ROOT = Path(__file__).resolve().parents[2]


def test_the_service_example_runs_twice(tether_url):
    for _ in range(2):  # it deletes what it made: safe to run again
        done = run_example(example("service", "docs/study.md"), tether_url)
        assert done.stdout.splitlines() == [
            "hnsw True ['A vector has a direction and a length. Its length is a square root.']"
        ]
    said = (ROOT / "docs" / "study.md").read_text()
    assert "It prints `hnsw True ['A vector has a direction and a length." in said
