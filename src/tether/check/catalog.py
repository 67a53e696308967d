"""What `tether check`, `tether erd` and `tether distribution` read from pg_catalog
(sql/catalog/check.sql, schema.sql)."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from tether.catalog import Q
from tether.repository import Repository


@frozen
class TypeDescription:
    type_oid: int
    type_name: str
    kind: str
    element_name: str | None
    element_kind: str | None


@frozen
class ColumnOrigin:
    table_oid: int
    attnum: int
    column_name: str
    not_null: bool


@frozen
class RedundantIndex:
    schema_name: str
    table_name: str
    index_name: str
    covered_by: str


@frozen
class RuleSubject:
    schema_name: str
    table_name: str
    rule_name: str
    needs_words: bool


@frozen
class TriggerFunction:
    schema_name: str
    table_name: str
    trigger_name: str
    function_source: str


@frozen
class ErdColumn:
    table_name: str
    column_name: str
    type_name: str
    not_null: bool
    primary_key: bool
    foreign_key: bool
    unique_key: bool
    attnum: int


@frozen
class ForeignKey:
    schema_name: str
    table_name: str
    parent_name: str
    constraint_name: str
    columns: list[str]
    on_delete: str
    on_delete_columns: list[str]
    required: bool
    one_to_one: bool
    indexed: bool
    parent_columns: list[str]


@frozen
class UniqueKey:
    """A primary key or unique index: its key columns (None for an expression) and
    their text as the index writes them."""

    schema_name: str
    table_name: str
    index_name: str
    primary_key: bool
    partial: bool
    columns: list[str | None]
    definitions: list[str]


class Catalog(Repository):
    DOMAIN_SCHEMAS = Q.domain_schemas
    TYPE_DESCRIPTIONS = Q.type_descriptions.returning(TypeDescription)
    COLUMN_ORIGINS = Q.column_origins.returning(ColumnOrigin)
    REDUNDANT_INDEXES = Q.redundant_indexes.returning(RedundantIndex)
    RULE_SUBJECTS = Q.rule_subjects.returning(RuleSubject)
    TRIGGER_FUNCTIONS = Q.trigger_functions.returning(TriggerFunction)
    ERD_COLUMNS = Q.erd_columns.returning(ErdColumn)
    FOREIGN_KEYS = Q.foreign_keys.returning(ForeignKey)
    UNIQUE_KEYS = Q.unique_keys.returning(UniqueKey)

    async def domain_schemas(self) -> list[str]:
        schemas: list[str] = await self._val(self.DOMAIN_SCHEMAS)
        return schemas

    async def types(self, type_oids: Iterable[int]) -> dict[int, TypeDescription]:
        rows = await self._many(self.TYPE_DESCRIPTIONS, type_oids=sorted(set(type_oids)))
        return {row.type_oid: row for row in rows}

    async def column_origins(
        self, columns: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], ColumnOrigin]:
        """Table columns by (table oid, attribute number), for the pairs a Describe gave."""
        pairs = sorted(set(columns))
        rows = await self._many(
            self.COLUMN_ORIGINS,
            table_oids=[table for table, _ in pairs],
            attnums=[attnum for _, attnum in pairs],
        )
        return {(row.table_oid, row.attnum): row for row in rows}

    async def redundant_indexes(self, schemas: list[str]) -> list[RedundantIndex]:
        return await self._many(self.REDUNDANT_INDEXES, schemas=schemas)

    async def rule_subjects(self, schemas: list[str]) -> list[RuleSubject]:
        return await self._many(self.RULE_SUBJECTS, schemas=schemas)

    async def trigger_functions(self, schemas: list[str]) -> list[TriggerFunction]:
        return await self._many(self.TRIGGER_FUNCTIONS, schemas=schemas)

    async def erd_columns(self, schema: str) -> list[ErdColumn]:
        return await self._many(self.ERD_COLUMNS, schema=schema)

    async def foreign_keys(self, schemas: list[str]) -> list[ForeignKey]:
        return await self._many(self.FOREIGN_KEYS, schemas=schemas)

    async def unique_keys(self, schemas: list[str]) -> list[UniqueKey]:
        return await self._many(self.UNIQUE_KEYS, schemas=schemas)
