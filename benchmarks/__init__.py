"""tether against bare asyncpg and the SQLAlchemy 2 async ORM: `python -m benchmarks`.

harness.py measures any scenario; each domain (planner/ now) brings its fixtures,
its SQLAlchemy mapping and its scenarios; run.py sets the database up and runs them.
"""
