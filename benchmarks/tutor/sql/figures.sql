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
