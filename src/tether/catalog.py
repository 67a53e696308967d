"""The queries tether runs on PostgreSQL's own catalogs (`sql/catalog/`), loaded once for
every part of tether that reads them: the pool's codecs, change counters, the test
plugin's templates, `tether check` and `tether erd`."""

from __future__ import annotations

from tether import queries

Q = queries.load("catalog")
