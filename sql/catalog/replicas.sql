-- name: flushed_lsn :val
-- The primary's WAL position flushed to disk, as a number: every transaction that
-- has committed (synchronously, the default) ends at or before it, and a standby
-- receives WAL up to it. A read-your-writes token.
select pg_current_wal_flush_lsn();

-- name: replayed_lsn :val
-- How far a standby has replayed the primary's WAL: what it has replayed is visible
-- to its next statement. NULL on a server that is not a standby.
select pg_last_wal_replay_lsn();

-- name: standby_lag :one
-- How far behind a standby is, in seconds: none when its WAL receiver streams from
-- the primary and it has replayed everything received, else the age of the last
-- transaction it replayed (NULL when it has replayed none). `replayed` is NULL on a
-- server that is not a standby.
select pg_last_wal_replay_lsn() as replayed,
       exists (select 1 from pg_stat_wal_receiver) as streaming,
       case
           when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn()
                and exists (select 1 from pg_stat_wal_receiver) then 0.0
           else extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8
       end as lag_seconds;
