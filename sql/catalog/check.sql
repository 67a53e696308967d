-- name: domain_schemas :val
-- The schemas the migrations created: every schema but PostgreSQL's own, public
-- (extensions and yoyo's bookkeeping) and those an extension owns.
select coalesce(array_agg(n.nspname::text order by n.nspname), '{}')
from pg_namespace n
where n.nspname !~ '^pg_'
  and n.nspname not in ('information_schema', 'public')
  and not exists (
      select 1 from pg_depend d
      where d.classid = 'pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e'
  );

-- name: type_descriptions :many
-- Each type a query result uses, seen through domains to its base type; for an
-- array, its element type too.
select t.oid::bigint as type_oid,
       base.typname::text as type_name,
       base.typtype::text as kind,
       element.typname::text as element_name,
       element.typtype::text as element_kind
from pg_type t
join pg_type base on base.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
left join pg_type element on element.oid = base.typelem and base.typlen = -1
where t.oid = any(:type_oids::oid[]);

-- name: column_origins :many
-- Whether the table columns that result columns come from (the table oid and
-- attribute number of a Describe) can hold NULL. Views are left out: their
-- columns never say NOT NULL, whatever the tables below them say.
select a.attrelid::bigint as table_oid,
       a.attnum::int as attnum,
       a.attrelid::regclass::text || '.' || a.attname::text as column_name,
       a.attnotnull as not_null
from unnest(:table_oids::oid[], :attnums::int2[]) as wanted (table_oid, attnum)
join pg_attribute a on a.attrelid = wanted.table_oid and a.attnum = wanted.attnum
join pg_class c on c.oid = a.attrelid
where c.relkind in ('r', 'p');

-- name: redundant_indexes :many
-- Indexes another index of the same table makes useless: the same keys (the later
-- one is reported), or, for a non-unique btree index without INCLUDE columns, keys
-- that are the leading keys of another btree index. Predicates, expressions,
-- operator classes and sort options must agree.
select distinct on (n.nspname, t.relname, ix.relname)
       n.nspname::text as schema_name,
       t.relname::text as table_name,
       ix.relname::text as index_name,
       other_ix.relname::text as covered_by
from pg_index i
join pg_class ix on ix.oid = i.indexrelid
join pg_class t on t.oid = i.indrelid
join pg_namespace n on n.oid = t.relnamespace
join pg_am am on am.oid = ix.relam
join pg_index other on other.indrelid = i.indrelid and other.indexrelid <> i.indexrelid
join pg_class other_ix on other_ix.oid = other.indexrelid
where n.nspname = any(:schemas::text[])
  and other_ix.relam = ix.relam
  and coalesce(i.indpred::text, '') = coalesce(other.indpred::text, '')
  and coalesce(i.indexprs::text, '') = coalesce(other.indexprs::text, '')
  and (i.indkey::int2[])[0:i.indnkeyatts - 1] = (other.indkey::int2[])[0:i.indnkeyatts - 1]
  and (i.indclass::oid[])[0:i.indnkeyatts - 1] = (other.indclass::oid[])[0:i.indnkeyatts - 1]
  and (i.indoption::int2[])[0:i.indnkeyatts - 1] = (other.indoption::int2[])[0:i.indnkeyatts - 1]
  and (
      -- The same keys: a non-unique one beside a unique one, else the later of the two.
      (i.indkey::text = other.indkey::text
       and ((not i.indisunique and other.indisunique)
            or (i.indisunique = other.indisunique and i.indexrelid > other.indexrelid)))
      or
      -- A plain btree index on the leading keys of a longer btree index.
      (am.amname = 'btree'
       and not i.indisunique
       and i.indnatts = i.indnkeyatts
       and i.indnkeyatts < other.indnkeyatts)
  )
order by n.nspname, t.relname, ix.relname, other_ix.relname;

-- name: rule_subjects :many
-- Every named rule of the domain schemas: constraints, indexes and triggers.
-- `needs_words` marks those a caller can break and so need a plain-words
-- description: check, foreign key, unique and exclusion constraints, unique
-- indexes that back no constraint, and primary keys whose columns the caller
-- supplies (no default, not an identity). Triggers are judged by their function.
select n.nspname::text as schema_name,
       t.relname::text as table_name,
       c.conname::text as rule_name,
       c.contype in ('c', 'f', 'u', 'x')
       or (c.contype = 'p' and exists (
               select 1 from pg_attribute a
               where a.attrelid = c.conrelid and a.attnum = any(c.conkey)
                 and not a.atthasdef and a.attidentity = ''
           )) as needs_words
from pg_constraint c
join pg_class t on t.oid = c.conrelid
join pg_namespace n on n.oid = t.relnamespace
where n.nspname = any(:schemas::text[])
union all
select n.nspname::text, t.relname::text, ix.relname::text,
       i.indisunique and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
from pg_index i
join pg_class ix on ix.oid = i.indexrelid
join pg_class t on t.oid = i.indrelid
join pg_namespace n on n.oid = t.relnamespace
where n.nspname = any(:schemas::text[])
union all
select n.nspname::text, t.relname::text, tg.tgname::text, false
from pg_trigger tg
join pg_class t on t.oid = tg.tgrelid
join pg_namespace n on n.oid = t.relnamespace
where n.nspname = any(:schemas::text[]) and not tg.tgisinternal
order by 1, 2, 3;

-- name: trigger_functions :many
-- The user triggers of the domain schemas with the source of the function each runs.
select n.nspname::text as schema_name,
       t.relname::text as table_name,
       tg.tgname::text as trigger_name,
       p.prosrc as function_source
from pg_trigger tg
join pg_class t on t.oid = tg.tgrelid
join pg_namespace n on n.oid = t.relnamespace
join pg_proc p on p.oid = tg.tgfoid
where n.nspname = any(:schemas::text[]) and not tg.tgisinternal
order by 1, 2, 3;
