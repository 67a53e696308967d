-- name: table_columns_not_null :many
-- Whether each column of the named tables (the relations query plans scan) is
-- NOT NULL: what a result column read straight from a table can hold.
select n.nspname::text as schema_name,
       c.relname::text as table_name,
       a.attname::text as column_name,
       a.attnotnull as not_null
from unnest(:schemas::text[], :tables::text[]) as wanted (schema_name, table_name)
join pg_namespace n on n.nspname = wanted.schema_name
join pg_class c on c.relnamespace = n.oid and c.relname = wanted.table_name
join pg_attribute a on a.attrelid = c.oid
where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p');
