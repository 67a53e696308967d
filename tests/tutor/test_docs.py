"""docs/tutor.md's service example runs as a new user would run it, against a database
of its own, and prints what it says."""

from test_readme import example, run_example


def test_the_worker_example_runs(tether_url):
    done = run_example(example("tutor-worker", "docs/tutor.md"), tether_url)
    assert done.stdout.splitlines() == [
        "A perceptron weighs its inputs. It fires above a threshold.",
        "succeeded",
    ]
