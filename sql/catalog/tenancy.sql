-- name: scope_to_tenants :val
-- Inside a transaction: act as tether_service (SET LOCAL ROLE) and see only these
-- tenants' rows (`tether.tenants`, read by every tenant table's policy), until the
-- transaction ends. One round trip; nothing outlives the transaction, so it works
-- through PgBouncer's transaction pooling. Returns the tenants set.
select set_config('tether.tenants', :tenants, true)
from (select set_config('role', 'tether_service', true)) as acting;

-- name: tenant_tables :many
-- Each table of the schemas: whether row-level security is enabled and forced on it,
-- and the USING expression of each policy that applies to tether_service (none when
-- no policy does). `tether check` holds a domain's tenant tables to the SPEC with it.
select n.nspname::text as schema_name,
       c.relname::text as table_name,
       c.relrowsecurity as enabled,
       c.relforcerowsecurity as forced,
       array(
           select pg_get_expr(p.polqual, p.polrelid)
           from pg_policy as p
           join pg_roles as r on r.oid = any (p.polroles)
           where p.polrelid = c.oid and r.rolname = 'tether_service' and p.polqual is not null
           order by p.polname
       ) as service_policies
from pg_class as c
join pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname = any (:schemas::text[])
order by n.nspname, c.relname;
