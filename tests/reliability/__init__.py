"""Reliability and security: faults, load, hostile input, PgBouncer (`pytest -m reliability`)."""
