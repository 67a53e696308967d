-- name: erd_columns :many
-- The columns of one schema's tables in table and column order, with their type
-- as PostgreSQL writes it and whether they are part of the primary key, of a
-- foreign key, or unique on their own; and their attribute number (an INSERT's
-- plan lists a table's columns by it).
select t.relname::text as table_name,
       a.attname::text as column_name,
       format_type(a.atttypid, a.atttypmod) as type_name,
       a.attnotnull as not_null,
       exists (
           select 1 from pg_constraint c
           where c.conrelid = t.oid and c.contype = 'p' and a.attnum = any(c.conkey)
       ) as primary_key,
       exists (
           select 1 from pg_constraint c
           where c.conrelid = t.oid and c.contype = 'f' and a.attnum = any(c.conkey)
       ) as foreign_key,
       exists (
           select 1 from pg_index i
           where i.indrelid = t.oid and i.indisunique and not i.indisprimary
             and i.indpred is null and i.indnkeyatts = 1 and i.indkey[0] = a.attnum
       ) as unique_key,
       a.attnum::int as attnum
from pg_class t
join pg_namespace n on n.oid = t.relnamespace
join pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
where n.nspname = :schema and t.relkind in ('r', 'p')
order by t.relname, a.attnum;

-- name: foreign_keys :many
-- The foreign keys of the schemas' tables: the referenced table (schema_table when
-- it lives in another schema) and the columns it refers to, the key's columns, its
-- ON DELETE rule and the
-- columns a SET NULL/SET DEFAULT limits itself to, whether every key column is NOT
-- NULL, whether the key's columns are unique in the child (one-to-one), and whether
-- a valid, non-partial btree index leads with exactly the key's columns (in any
-- order), without which deleting a referenced row scans the child.
select n.nspname::text as schema_name,
       t.relname::text as table_name,
       case when pn.nspname = n.nspname then p.relname::text
            else pn.nspname::text || '_' || p.relname::text end as parent_name,
       c.conname::text as constraint_name,
       array(
           select a.attname::text
           from unnest(c.conkey) with ordinality as k (attnum, position)
           join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
           order by k.position
       ) as columns,
       case c.confdeltype
           when 'a' then 'no action'
           when 'r' then 'restrict'
           when 'c' then 'cascade'
           when 'n' then 'set null'
           when 'd' then 'set default'
       end as on_delete,
       array(
           select a.attname::text
           from unnest(coalesce(c.confdelsetcols, '{}')) with ordinality as k (attnum, position)
           join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
           order by k.position
       ) as on_delete_columns,
       not exists (
           select 1 from pg_attribute a
           where a.attrelid = c.conrelid and a.attnum = any(c.conkey) and not a.attnotnull
       ) as required,
       exists (
           select 1 from pg_index i
           where i.indrelid = c.conrelid and i.indisunique and i.indpred is null
             and i.indnkeyatts = cardinality(c.conkey)
             and (i.indkey::int2[])[0:i.indnkeyatts - 1] @> c.conkey
       ) as one_to_one,
       exists (
           select 1
           from pg_index i
           join pg_class ix on ix.oid = i.indexrelid
           join pg_am am on am.oid = ix.relam
           where i.indrelid = c.conrelid
             and i.indisvalid
             and i.indpred is null
             and am.amname = 'btree'
             and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
             and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
       ) as indexed,
       array(
           select a.attname::text
           from unnest(c.confkey) with ordinality as k (attnum, position)
           join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum
           order by k.position
       ) as parent_columns
from pg_constraint c
join pg_class t on t.oid = c.conrelid
join pg_namespace n on n.oid = t.relnamespace
join pg_class p on p.oid = c.confrelid
join pg_namespace pn on pn.oid = p.relnamespace
where c.contype = 'f' and n.nspname = any(:schemas::text[])
order by n.nspname, t.relname, c.conname;

-- name: unique_keys :many
-- The primary keys and unique indexes of the schemas' tables, each with its key
-- columns (NULL for an expression) and their text as the index writes them,
-- primary keys first.
select n.nspname::text as schema_name,
       t.relname::text as table_name,
       ix.relname::text as index_name,
       i.indisprimary as primary_key,
       i.indpred is not null as partial,
       array(
           select a.attname::text
           from generate_series(1, i.indnkeyatts) as k (position)
           left join pg_attribute a
                  on a.attrelid = t.oid and a.attnum = (i.indkey::int2[])[k.position - 1]
           order by k.position
       ) as columns,
       array(
           select pg_get_indexdef(i.indexrelid, k.position, true)
           from generate_series(1, i.indnkeyatts) as k (position)
           order by k.position
       ) as definitions
from pg_index i
join pg_class ix on ix.oid = i.indexrelid
join pg_class t on t.oid = i.indrelid
join pg_namespace n on n.oid = t.relnamespace
where i.indisunique and n.nspname = any(:schemas::text[])
order by n.nspname, t.relname, not i.indisprimary, ix.relname;
