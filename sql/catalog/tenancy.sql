-- name: scope_to_tenants :val
-- Inside a transaction: act as tether_service (SET LOCAL ROLE) and see only these
-- tenants' rows (`tether.tenants`, read by every tenant table's policy), until the
-- transaction ends. One round trip; nothing outlives the transaction, so it works
-- through PgBouncer's transaction pooling. Returns the tenants set.
select set_config('tether.tenants', :tenants, true)
from (select set_config('role', 'tether_service', true)) as acting;
