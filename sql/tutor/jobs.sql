-- name: enqueue_job :one
-- One new pending job.
insert into tutor.jobs (kind, week_id, payload)
values (:kind, :week_id, coalesce(:payload::jsonb, '{}'))
returning id, kind, status, progress, error, week_id, created_at, updated_at,
          payload, attempt, lease_expires_at;

-- name: copy_jobs :copy
-- Many new pending jobs, written with COPY: all of them or none.
insert into tutor.jobs (kind, week_id, payload)
values (:kind, :week_id, :payload);

-- name: claim_jobs :many
-- Up to :limit jobs of the given kinds, oldest first: pending ones, and running
-- ones whose lease lapsed (their worker died). Each is locked with SKIP LOCKED, so
-- concurrent workers never take the same job, and becomes running with a new
-- attempt number (the claim token every later write quotes) and a lease.
-- The scans run on the partial indexes jobs_pending_idx and jobs_lease_idx: however
-- many finished jobs the table holds, they are never read.
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

-- name: report_progress :execrows
-- The worker holding claim :attempt reports progress, which renews its lease.
-- No row: the claim is no longer this worker's (another claimed the job after the
-- lease lapsed, or it finished).
update tutor.jobs
set progress = :progress,
    lease_expires_at = now() + make_interval(secs => :lease_seconds)
where id = :id and attempt = :attempt and status = 'running';

-- name: renew_leases :val
-- The workers holding these claims (job ids and attempts) are alive: their leases
-- start again from now. Returns the ids whose claim still held.
with renewed as (
    update tutor.jobs j
    set lease_expires_at = now() + make_interval(secs => :lease_seconds)
    from unnest(:ids::bigint[], :attempts::integer[]) as claim (id, attempt)
    where j.id = claim.id and j.attempt = claim.attempt and j.status = 'running'
    returning j.id
)
select coalesce(array_agg(id), '{}') from renewed;

-- name: succeed_jobs :val
-- The jobs (id and the attempt that claimed each) succeed, if each claim still
-- holds; returns the ids that did.
with done as (
    update tutor.jobs j
    set status = 'succeeded', progress = 100, lease_expires_at = null
    from unnest(:ids::bigint[], :attempts::integer[]) as claim (id, attempt)
    where j.id = claim.id and j.attempt = claim.attempt and j.status = 'running'
    returning j.id
)
select coalesce(array_agg(id), '{}') from done;

-- name: succeed_job :execrows
-- The job succeeds, if claim :attempt still holds.
update tutor.jobs
set status = 'succeeded', progress = 100, lease_expires_at = null
where id = :id and attempt = :attempt and status = 'running';

-- name: fail_job :execrows
-- The job fails with an error, if claim :attempt still holds.
update tutor.jobs
set status = 'failed', error = :error, lease_expires_at = null
where id = :id and attempt = :attempt and status = 'running';

-- name: release_job :execrows
-- The worker gives the job back (shutting down): pending again, for any worker.
update tutor.jobs
set status = 'pending', progress = 0, lease_expires_at = null
where id = :id and attempt = :attempt and status = 'running';

-- name: get_job :one
select id, kind, status, progress, error, week_id, created_at, updated_at,
       payload, attempt, lease_expires_at
from tutor.jobs
where id = :id;

-- name: jobs_of_week :many
-- A week's jobs, oldest first.
select id, kind, status, progress, error, week_id, created_at, updated_at,
       payload, attempt, lease_expires_at
from tutor.jobs
where week_id = :week_id
order by id;

-- name: queue_depth :many
-- How many jobs of each kind are in each status (jobs_status_kind_idx).
select kind, status, count(*) as jobs
from tutor.jobs
group by kind, status
order by kind, status;
