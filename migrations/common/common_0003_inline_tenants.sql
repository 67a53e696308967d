-- depends: common_0002_tenancy
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- altering a function locks no table
-- public.tether_tenants() without its pinned search_path, so that PostgreSQL inlines it
-- into every policy: a SQL function with a SET clause is never inlined, and calling it
-- (a SQL function run, the setting saved and restored) cost a scoped statement ~7 µs:
-- a 48 µs primary-key read took 1.33x the owner's time, 1.18x with the function inlined
-- (docs/tenancy.md, "What it costs"). Nothing is lost by it: the body is a SQL-standard
-- RETURN expression, parsed and bound to pg_catalog's functions when it was created, so
-- no search_path at call time can redirect it.
alter function public.tether_tenants() reset search_path;
