-- Untimed setup every domain's benchmark shares: the versions the report records,
-- and the statistics refreshed after the fixtures are loaded.

-- name: versions :one
select current_setting('server_version') as postgresql,
       (select extversion from pg_extension where extname = 'vector') as pgvector;

-- name: vacuum_analyze :exec
vacuum analyze;
