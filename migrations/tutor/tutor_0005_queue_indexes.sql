-- depends: tutor_0004_queue
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- yoyo runs this file outside a transaction (transactional: false above): each statement commits on its own, as CONCURRENTLY needs
-- The queue's indexes, built CONCURRENTLY (one statement per step; a build that failed
-- leaves an INVALID index behind, which the next run drops first), and the checks of
-- tutor_0004_queue validated.
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table tutor.jobs validate constraint jobs_max_attempts_check;
alter table tutor.jobs validate constraint jobs_backoff_check;
alter table tutor.jobs validate constraint jobs_dedup_key_check;
alter table tutor.jobs validate constraint jobs_errors_check;
alter table tutor.jobs validate constraint jobs_cancel_reason_check;

-- What a claim reads: the pending jobs only, in claim order (higher priority first,
-- then the longest due, then the oldest), however many finished jobs the table holds.
drop index concurrently if exists tutor.jobs_pending_order_idx;
create index concurrently if not exists jobs_pending_order_idx
    on tutor.jobs (priority desc, run_at, id) where status = 'pending';
drop index concurrently if exists tutor.jobs_pending_idx;

-- De-duplication: one pending or running job per kind, key and course (a job of no
-- course included: NULLS NOT DISTINCT).
drop index concurrently if exists tutor.jobs_dedup_key;
create unique index concurrently if not exists jobs_dedup_key
    on tutor.jobs (kind, dedup_key, course_id) nulls not distinct
    where dedup_key is not null and status in ('pending', 'running');
