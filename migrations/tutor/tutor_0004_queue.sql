-- depends: tutor_0003_tenancy_indexes
-- squawk-ignore-file adding-required-field -- every new column has a default: existing jobs get it without a rewrite
-- The queue of a dedicated job system (docs/tutor.md, "The job queue"): retries with
-- backoff, scheduling, priority, de-duplication and cancellation, as columns of
-- tutor.jobs, each with a default, so an insert naming only the SPEC's columns is a
-- pending job that runs once, at once, at normal priority. Statuses stay the SPEC's
-- four: a retry waiting for its time is `pending` with a later run_at, a cancelled job
-- ends `failed` with its reason. The claim's and de-duplication's indexes are built
-- CONCURRENTLY in tutor_0005_queue_indexes.
set local lock_timeout = '5s';
set local statement_timeout = '5s';

-- Higher first; 0 is normal.
-- squawk-ignore prefer-bigint-over-int -- a priority, a handful of levels
alter table tutor.jobs add column priority integer not null default 0;
-- Never claimed before this time (a delay, a schedule, a retry's backoff).
alter table tutor.jobs add column run_at timestamptz not null default now();
-- How many claims the job may have before it fails for good (a lapsed lease is one).
-- squawk-ignore prefer-bigint-over-int -- a count of attempts, checked to 1..1000
alter table tutor.jobs add column max_attempts integer not null default 1;
-- Retry n waits backoff * 2^(n-1), at most backoff_cap, times a jitter in [0.5, 1).
alter table tutor.jobs add column backoff interval not null default '1 second';
alter table tutor.jobs add column backoff_cap interval not null default '1 hour';
-- Optional: at most one pending or running job per (kind, dedup_key) and course.
alter table tutor.jobs add column dedup_key text;
-- The error of each of the last 10 attempts ({attempt, error, at}), oldest first.
alter table tutor.jobs add column errors jsonb not null default '[]';
-- Set when a running job is asked to stop: it can no longer succeed.
alter table tutor.jobs add column cancel_reason text;

-- The table's rows hold the defaults: these checks hold at once (NOT VALID skips the
-- scan that would prove it; tutor_0005_queue_indexes validates them).
alter table tutor.jobs add constraint jobs_max_attempts_check
    check (max_attempts between 1 and 1000) not valid;
alter table tutor.jobs add constraint jobs_backoff_check
    check (backoff >= interval '0' and backoff_cap >= backoff) not valid;
alter table tutor.jobs add constraint jobs_dedup_key_check
    check (btrim(dedup_key) <> '' and length(dedup_key) <= 255) not valid;
alter table tutor.jobs add constraint jobs_errors_check
    check (jsonb_typeof(errors) = 'array' and jsonb_array_length(errors) <= 10) not valid;
alter table tutor.jobs add constraint jobs_cancel_reason_check
    check (btrim(cancel_reason) <> '' and length(cancel_reason) <= 2000) not valid;

-- Which kinds are pending, as the planner sees it: without these statistics it takes
-- status and kind as independent, so with many finished jobs of other kinds it expects
-- few pending jobs of the claimed kinds and sorts them all (on jobs_status_kind_idx)
-- rather than read the first ones of jobs_pending_order_idx in order.
create statistics tutor.jobs_status_kind_stats (mcv, dependencies) on status, kind
    from tutor.jobs;
