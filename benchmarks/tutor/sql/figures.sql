-- The figures' own statements (benchmarks/tutor/figures.py).

-- name: analyze_jobs :exec
analyze tutor.jobs;

-- name: enqueue_and_notify :val
-- enqueue_job with a NOTIFY in the same statement: what a LISTEN-based wake-up costs
-- every enqueue (NOTIFY takes a global lock at commit).
with job as (
    insert into tutor.jobs (kind, payload)
    values (:kind, '{}')
    returning id
)
select pg_notify('tutor_jobs', job.id::text) from job;

-- name: finished_jobs :val
select count(*) from tutor.jobs where status = 'succeeded';

-- name: pgqueuer_job_exists :val
select exists (select 1 from pgqueuer where id = :id);

-- name: pgqueuer_logged :val
select count(*) from pgqueuer_log where job_id = :id and status = 'successful';

-- name: analyze_all :exec
-- After a queue's enqueue: its claim plans on statistics, as in production.
analyze;

-- name: pgqueuer_left :val
select count(*) from pgqueuer;

-- name: procrastinate_left :val
select count(*) from procrastinate_jobs where status <> 'succeeded';

-- name: terminate :val
-- The hand that kills a worker's connection.
select pg_terminate_backend(:pid);

-- name: forget_bulk :exec
-- Undo a timed bulk write (jobs and chunks), so each starts from empty tables.
truncate tutor.jobs, tutor.chunks;

-- name: claim_jobs_before :many
-- The claim as it was before retries, priorities and de-duplication (tutor_0004):
-- oldest pending first on jobs_pending_idx (id), kept here to measure the new one
-- against it on the same table.
with pending as (
    select id from tutor.jobs
    where status = 'pending' and kind = any(:kinds::text[])
    order by id
    limit :limit
    for update skip locked
),
lapsed as (
    select id from tutor.jobs
    where status = 'running' and lease_expires_at < now() and kind = any(:kinds::text[])
    order by lease_expires_at
    limit :limit
    for update skip locked
),
picked as (
    select id from pending
    union all
    select id from lapsed
    order by id
    limit :limit
),
claimed as (
    update tutor.jobs j
    set status = 'running',
        attempt = j.attempt + 1,
        progress = 0,
        error = null,
        lease_expires_at = now() + make_interval(secs => :lease_seconds)
    from picked
    where j.id = picked.id
    returning j.id, j.kind, j.status, j.progress, j.error, j.week_id, j.created_at,
              j.updated_at, j.payload, j.attempt, j.lease_expires_at
)
select id, kind, status, progress, error, week_id, created_at, updated_at,
       payload, attempt, lease_expires_at
from claimed
order by id;

-- name: index_before :exec
-- The partial index the claim read before tutor_0005 replaced it.
create index jobs_pending_idx on tutor.jobs (id) where status = 'pending';

-- name: finish_claimed :exec
-- The same completion after either claim: what is timed is the claim.
update tutor.jobs set status = 'succeeded', lease_expires_at = null
where id = any(:ids::bigint[]);

-- name: fill_finished :exec
-- Finished jobs (half succeeded, half failed), the history a busy queue accumulates.
insert into tutor.jobs (kind, status, progress, error)
select 'history', (array['succeeded', 'failed'])[1 + n % 2], 100, null
from generate_series(1, :count) n;

-- name: failed_attempts :many
-- Each job of a kind: its status, attempts, and the times of each failure (errors).
select status, attempt, errors from tutor.jobs where kind = :kind order by id;
