-- name: database_exists :val
select exists (select 1 from pg_database where datname = :name);

-- name: other_templates :val
-- The names of tether's test templates for the same domains (same prefix) built
-- from other versions of their migrations.
select coalesce(array_agg(datname::text), '{}') from pg_database
where starts_with(datname, :prefix) and datname <> :name;

-- name: vector_installed :val
-- Whether pgvector's type exists yet (it does once the common migration ran).
select to_regtype('public.vector') is not null;
