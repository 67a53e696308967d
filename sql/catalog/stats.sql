-- name: table_counters :many
-- Rows inserted, updated and deleted in each user table by the current transaction,
-- cascades and SET NULLs included (PostgreSQL counts them as the server runs them).
select schemaname || '.' || relname as table_name,
       n_tup_ins as inserted,
       n_tup_upd as updated,
       n_tup_del as deleted
from pg_stat_xact_user_tables
where n_tup_ins + n_tup_upd + n_tup_del > 0;
