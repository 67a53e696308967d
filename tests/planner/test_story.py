"""`tether demo planner` plays the seed-001 story: the calendar, then what each deletion
cascaded, in a database holding `common` and the planner only."""

import subprocess
import sys

import pytest

from domain_checks import story

# What each deletion cascaded, as PostgreSQL counted it, and the rows left after it:
# every table's line in full, so that one count off fails.
PLAN_DELETED = """\
planner.ai_tasks  1             0
planner.plans     1             0
John's rows left: users 1, subjects 3, plans 3, ai_tasks 7, feedback 1
"""
SUBJECT_DELETED = """\
planner.ai_tasks  1             0
planner.subjects  1             0
John's rows left: users 1, subjects 2, plans 3, ai_tasks 6, feedback 1
"""
JOHN_DELETED = """\
planner.ai_tasks  6             0
planner.feedback  1             0
planner.plans     3             0
planner.subjects  2             0
planner.users     1             0
John's rows left: users 0, subjects 0, plans 0, ai_tasks 0, feedback 0
"""


def check_deletions(text: str) -> None:
    deletions = text.split("== delete ")[1:]
    assert len(deletions) == 3
    for told, counted in zip(deletions, (PLAN_DELETED, SUBJECT_DELETED, JOHN_DELETED), strict=True):
        assert counted in told


async def test_the_story_is_told_with_the_databases_counts(tether_server_url):
    text = await story(tether_server_url, "planner")
    assert "applying common_0001_extensions" in text
    assert "applying planner_0001_schema" in text
    assert "Tue 2026-01-13  Physics           Physics Lab Report     4           9" in text
    assert "Thu 2026-01-15  Computer Science  CS Midterm Prep        5           10" in text
    check_deletions(text)
    # One count off is caught (John's one feedback told as three: the old check, that
    # "planner.feedback" and "1 " were somewhere in the section, passed it).
    wrong = text.replace("planner.feedback  1 ", "planner.feedback  3 ")
    assert wrong != text
    with pytest.raises(AssertionError):
        check_deletions(wrong)
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
