"""`tether demo planner` plays the seed-001 story: the calendar, then what each deletion
cascaded, in a database holding `common` and the planner only."""

import subprocess
import sys

from domain_checks import story


async def test_the_story_is_told_with_the_databases_counts(tether_server_url):
    text = await story(tether_server_url, "planner")
    assert "applying common_0001_extensions" in text
    assert "applying planner_0001_schema" in text
    assert "Tue 2026-01-13  Physics           Physics Lab Report     4           9" in text
    assert "Thu 2026-01-15  Computer Science  CS Midterm Prep        5           10" in text
    deletions = text.split("== delete ")[1:]
    assert len(deletions) == 3
    plan, subject, user = deletions
    assert "planner.ai_tasks  1" in plan and "planner.plans     1" in plan
    assert "feedback 1" in plan  # the feedback stays
    assert "planner.subjects  1" in subject
    for table, rows in (("ai_tasks", 6), ("feedback", 1), ("plans", 3), ("subjects", 2)):
        assert f"planner.{table}" in user and f"{rows} " in user
    assert "John's rows left: users 0, subjects 0, plans 0, ai_tasks 0, feedback 0" in user
    assert text.endswith(
        "\n" + "Mary's rows left: users 1, subjects 1, plans 1, ai_tasks 1, feedback 0"
    )


def test_python_m_tether_demo_planner_plays_it(tether_server_url):
    done = subprocess.run(
        [sys.executable, "-m", "tether", "--database", tether_server_url, "demo", "planner"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "#### planner (seed 001)" in done.stdout
    assert "Mary's rows left: users 1, subjects 1, plans 1, ai_tasks 1, feedback 0" in done.stdout
