-- name: enqueue_job :one
-- One new pending job, due at :run_at (or after :delay, from the server's clock). With
-- a :dedup_key, while a job of the same kind, key and course is pending or running
-- (jobs_dedup_key), that job is returned instead of a new one. No row: the existing
-- job committed after this statement's snapshot; the caller runs it again.
with new as (
    insert into tutor.jobs (kind, week_id, payload, priority, run_at, max_attempts, backoff,
                            backoff_cap, dedup_key)
    values (:kind, :week_id, coalesce(:payload::jsonb, '{}'), :priority,
            coalesce(:run_at::timestamptz, now() + :delay::interval), :max_attempts,
            :backoff, :backoff_cap, :dedup_key)
    on conflict (kind, dedup_key, course_id)
        where dedup_key is not null and status in ('pending', 'running')
        do nothing
    returning id, kind, status, progress, error, week_id, created_at, updated_at, payload,
              attempt, lease_expires_at, priority, run_at, max_attempts, backoff,
              backoff_cap, dedup_key, errors, cancel_reason
)
select id, kind, status, progress, error, week_id, created_at, updated_at, payload,
       attempt, lease_expires_at, priority, run_at, max_attempts, backoff, backoff_cap,
       dedup_key, errors, cancel_reason
from new
union all
select j.id, j.kind, j.status, j.progress, j.error, j.week_id, j.created_at, j.updated_at,
       j.payload, j.attempt, j.lease_expires_at, j.priority, j.run_at, j.max_attempts,
       j.backoff, j.backoff_cap, j.dedup_key, j.errors, j.cancel_reason
from tutor.jobs j
where not exists (select from new)
  and j.kind = :kind and j.dedup_key = :dedup_key and j.status in ('pending', 'running')
  and j.course_id is not distinct from (select w.course_id from tutor.weeks w
                                        where w.id = :week_id)
limit 1;

-- name: enqueue_slot :one
-- A periodic kind's job for one slot (:dedup_key names it, :run_at is its time),
-- unless a job of that kind and key exists in any status: once per slot, however many
-- workers ask. Runs after lock_slot in the same transaction, so its snapshot sees
-- every slot job that an earlier holder of the lock wrote. No row: already there.
insert into tutor.jobs (kind, payload, run_at, max_attempts, backoff, backoff_cap, dedup_key)
select :kind, coalesce(:payload::jsonb, '{}'), :run_at, :max_attempts, :backoff,
       :backoff_cap, :dedup_key
where not exists (select from tutor.jobs where kind = :kind and dedup_key = :dedup_key)
on conflict (kind, dedup_key, course_id)
    where dedup_key is not null and status in ('pending', 'running')
    do nothing
returning id, kind, status, progress, error, week_id, created_at, updated_at, payload,
          attempt, lease_expires_at, priority, run_at, max_attempts, backoff, backoff_cap,
          dedup_key, errors, cancel_reason;

-- name: lock_slot :val
-- One periodic kind's scheduler at a time, until the transaction ends.
select pg_advisory_xact_lock(hashtext('tutor.jobs periodic'), hashtext(:kind));

-- name: copy_jobs :copy
-- Many new pending jobs, due now, written with COPY: all of them or none.
insert into tutor.jobs (kind, week_id, payload, priority, max_attempts, backoff,
                        backoff_cap, dedup_key)
values (:kind, :week_id, :payload, :priority, :max_attempts, :backoff, :backoff_cap,
        :dedup_key);

-- name: claim_jobs :many
-- Up to :limit jobs of the given kinds: running ones whose lease lapsed (their worker
-- died) first, then due pending ones, higher priority first, then the longest due, then
-- the oldest. Each is locked with SKIP LOCKED, so concurrent workers never take the
-- same job, and becomes running with a new attempt number (the claim token every later
-- write quotes) and a lease; `error` is the current attempt's (none yet), `errors`
-- keeps the earlier ones. A lapsed lease was an attempt: its job is claimed again with
-- the lapse kept in `errors`, or fails for good when it was the last attempt or the
-- job was cancelled (those are not returned).
-- The scans run on the partial indexes jobs_pending_order_idx and jobs_lease_idx:
-- however many finished jobs the table holds, they are never read.
with pending as (
    select id, priority, run_at from tutor.jobs
    where status = 'pending' and kind = any(:kinds::text[]) and run_at <= now()
    order by priority desc, run_at, id
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
    select id, lapsed from (
        select id, true as lapsed, 0 as rank, 0 as priority, null::timestamptz as run_at
        from lapsed
        union all
        select id, false, 1, priority, run_at from pending
    ) candidates
    order by rank, priority desc, run_at, id
    limit :limit
),
claimed as (
    update tutor.jobs j
    set status = case when p.lapsed and (j.cancel_reason is not null
                                         or j.attempt >= j.max_attempts)
                      then 'failed' else 'running' end,
        attempt = case when p.lapsed and (j.cancel_reason is not null
                                          or j.attempt >= j.max_attempts)
                       then j.attempt else j.attempt + 1 end,
        progress = 0,
        error = case when not p.lapsed then null
                     when j.cancel_reason is not null then 'cancelled: ' || j.cancel_reason
                     when j.attempt >= j.max_attempts
                     then format('the lease lapsed on attempt %s of %s',
                                 j.attempt, j.max_attempts) end,
        errors = case when not p.lapsed then j.errors
                      else (case when jsonb_array_length(j.errors) >= 10 then j.errors - 0
                                 else j.errors end)
                           || jsonb_build_array(jsonb_build_object(
                                  'attempt', j.attempt, 'at', now(),
                                  'error', format('the lease lapsed on attempt %s of %s',
                                                  j.attempt, j.max_attempts))) end,
        lease_expires_at = case when p.lapsed and (j.cancel_reason is not null
                                                   or j.attempt >= j.max_attempts)
                                then null
                                else now() + make_interval(secs => :lease_seconds) end
    from picked p
    where j.id = p.id
    returning j.id, j.kind, j.status, j.progress, j.error, j.week_id, j.created_at,
              j.updated_at, j.payload, j.attempt, j.lease_expires_at, j.priority, j.run_at,
              j.max_attempts, j.backoff, j.backoff_cap, j.dedup_key, j.errors,
              j.cancel_reason
)
select id, kind, status, progress, error, week_id, created_at, updated_at, payload,
       attempt, lease_expires_at, priority, run_at, max_attempts, backoff, backoff_cap,
       dedup_key, errors, cancel_reason
from claimed
where status = 'running'
order by priority desc, run_at, id;

-- name: report_progress :execrows
-- The worker holding claim :attempt reports progress, which renews its lease.
-- No row: the claim is no longer this worker's (another claimed the job after the
-- lease lapsed, or it finished), or the job was cancelled.
update tutor.jobs
set progress = :progress,
    lease_expires_at = now() + make_interval(secs => :lease_seconds)
where id = :id and attempt = :attempt and status = 'running' and cancel_reason is null;

-- name: renew_leases :many
-- The workers holding these claims (job ids and attempts) are alive: their leases
-- start again from now. Returns the claims that still held, and whether each job was
-- asked to stop (cancelled).
update tutor.jobs j
set lease_expires_at = now() + make_interval(secs => :lease_seconds)
from unnest(:ids::bigint[], :attempts::integer[]) as claim (id, attempt)
where j.id = claim.id and j.attempt = claim.attempt and j.status = 'running'
returning j.id, j.cancel_reason is not null as cancelled;

-- name: succeed_jobs :many
-- The jobs (id and the attempt that claimed each) succeed, if each claim still
-- holds; a job cancelled meanwhile fails instead, with its reason. Returns the jobs
-- whose claim held, and whether each succeeded.
update tutor.jobs j
set status = case when j.cancel_reason is null then 'succeeded' else 'failed' end,
    progress = case when j.cancel_reason is null then 100 else j.progress end,
    error = case when j.cancel_reason is null then j.error
                 else 'cancelled: ' || j.cancel_reason end,
    lease_expires_at = null
from unnest(:ids::bigint[], :attempts::integer[]) as claim (id, attempt)
where j.id = claim.id and j.attempt = claim.attempt and j.status = 'running'
returning j.id, j.status = 'succeeded' as succeeded;

-- name: succeed_job :val
-- The job succeeds, if claim :attempt still holds (a job cancelled meanwhile fails
-- instead, with its reason). Returns the status it ended in; NULL: the claim did not
-- hold.
update tutor.jobs
set status = case when cancel_reason is null then 'succeeded' else 'failed' end,
    progress = case when cancel_reason is null then 100 else progress end,
    error = case when cancel_reason is null then error else 'cancelled: ' || cancel_reason end,
    lease_expires_at = null
where id = :id and attempt = :attempt and status = 'running'
returning status;

-- name: fail_job :val
-- The attempt failed with :error (kept, at most 2,000 characters, with the last 10
-- attempts' errors). If claim :attempt still holds: pending again after the backoff
-- (backoff * 2^(attempt-1), at most backoff_cap, times a jitter in [0.5, 1)) while
-- attempts remain, unless :final or the job was cancelled; else failed for good.
-- Returns the status it is left in; NULL: the claim did not hold.
update tutor.jobs
set status = case when not :final::boolean and cancel_reason is null
                       and attempt < max_attempts then 'pending' else 'failed' end,
    run_at = case when not :final::boolean and cancel_reason is null
                       and attempt < max_attempts
                  then now() + least(backoff_cap,
                                     backoff * power(2, least(attempt - 1, 40)))
                             * (0.5 + random() / 2)
                  else run_at end,
    error = case when cancel_reason is null then left(:error::text, 2000)
                 else 'cancelled: ' || cancel_reason end,
    errors = (case when jsonb_array_length(errors) >= 10 then errors - 0 else errors end)
             || jsonb_build_array(jsonb_build_object(
                    'attempt', attempt, 'at', now(), 'error', left(:error::text, 2000))),
    lease_expires_at = null
where id = :id and attempt = :attempt and status = 'running'
returning status;

-- name: release_job :val
-- The worker gives the job back unstarted (shutting down): pending again, for any
-- worker, and the claim is not counted as an attempt (max_attempts grows by one: the
-- attempt number stays the claim token). A cancelled job fails with its reason.
-- Returns the status it is left in; NULL: the claim did not hold.
update tutor.jobs
set status = case when cancel_reason is null then 'pending' else 'failed' end,
    max_attempts = case when cancel_reason is null then least(max_attempts + 1, 1000)
                        else max_attempts end,
    error = case when cancel_reason is null then error else 'cancelled: ' || cancel_reason end,
    progress = 0,
    lease_expires_at = null
where id = :id and attempt = :attempt and status = 'running'
returning status;

-- name: cancel_job :one
-- Cancel a job: a pending one fails at once with the reason; a running one is asked to
-- stop (its heartbeat learns it, it cannot succeed any more, and it ends failed with
-- the reason). No row: the job had finished (or does not exist).
update tutor.jobs
set status = case when status = 'pending' then 'failed' else status end,
    error = case when status = 'pending' then 'cancelled: ' || :reason::text else error end,
    cancel_reason = :reason
where id = :id and status in ('pending', 'running')
returning id, kind, status, progress, error, week_id, created_at, updated_at, payload,
          attempt, lease_expires_at, priority, run_at, max_attempts, backoff, backoff_cap,
          dedup_key, errors, cancel_reason;

-- name: get_job :one
select id, kind, status, progress, error, week_id, created_at, updated_at, payload,
       attempt, lease_expires_at, priority, run_at, max_attempts, backoff, backoff_cap,
       dedup_key, errors, cancel_reason
from tutor.jobs
where id = :id;

-- name: jobs_of_week :many
-- A week's jobs, oldest first.
select id, kind, status, progress, error, week_id, created_at, updated_at, payload,
       attempt, lease_expires_at, priority, run_at, max_attempts, backoff, backoff_cap,
       dedup_key, errors, cancel_reason
from tutor.jobs
where week_id = :week_id
order by id;

-- name: queue_depth :many
-- How many jobs of each kind are in each status (jobs_status_kind_idx).
select kind, status, count(*) as jobs
from tutor.jobs
group by kind, status
order by kind, status;

-- name: queue_stats :many
-- The queue at a glance, per kind and status: how many jobs, how many of the pending
-- ones wait for a later run_at (scheduled, retries in backoff), how long the longest
-- due pending job has waited, and how many jobs have had each number of attempts.
with by_attempt as (
    select kind, status, attempt, count(*) as jobs,
           count(*) filter (where status = 'pending' and run_at > now()) as scheduled,
           min(run_at) filter (where status = 'pending' and run_at <= now()) as oldest_due
    from tutor.jobs
    group by kind, status, attempt
)
select kind, status, sum(jobs)::bigint as jobs, sum(scheduled)::bigint as scheduled,
       extract(epoch from now() - min(oldest_due))::float8 as oldest_due_seconds,
       jsonb_object_agg(attempt, jobs order by attempt) as attempts
from by_attempt
group by kind, status
order by kind, status;

-- name: prune_jobs :one
-- Delete up to :batch finished jobs (succeeded or failed) last written more than
-- :older_than_days days ago, walking the primary key from after :after_id (so each
-- batch reads on from where the last one stopped). Returns how many went and the last
-- id read (NULL: nothing left to read).
with batch as (
    select id from tutor.jobs
    where id > :after_id and status in ('succeeded', 'failed')
      and updated_at < now() - make_interval(secs => :older_than_days * 86400)
    order by id
    limit :batch
),
gone as (
    delete from tutor.jobs j using batch b where j.id = b.id returning j.id
)
select count(*) as deleted, max(id) as last_id from gone;
