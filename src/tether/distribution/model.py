"""What a distribution plan holds: each table's place, each query's reach."""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from tether.check.catalog import ForeignKey, UniqueKey

Kind = Literal["distributed", "reference", "standalone"]


@frozen
class TablePlan:
    name: str
    kind: Kind
    column: str | None  # the distribution column, present or to add
    present: bool  # whether the table has it already
    via: ForeignKey | None  # the foreign key that ties the table to its tenant
    nullable: bool  # rows may have no tenant (the column, or the key it comes from, allows NULL)
    keys: list[UniqueKey]  # primary key first, then the unique indexes


@frozen
class QueryPlan:
    name: str
    shards: Literal["one", "all", "none"]  # none: it touches no distributed table
    why: str


@frozen
class DomainPlan:
    schema: str
    root: str
    declared: bool
    key: str  # the name the tenant's key has in the tables that refer to it
    tables: list[TablePlan]
    foreign_keys: list[ForeignKey]
    queries: list[QueryPlan]

    def table(self, name: str) -> TablePlan:
        return next(table for table in self.tables if table.name == name)
