-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- runs outside a transaction, as its migration does (transactional: false there)
-- squawk-ignore-file ban-drop-constraint -- each check comes back NOT VALID, as tutor_0004_queue left it
set lock_timeout = '5s';
set statement_timeout = '30min';

drop index concurrently if exists tutor.jobs_dedup_key;
create index concurrently if not exists jobs_pending_idx on tutor.jobs (id) where status = 'pending';
drop index concurrently if exists tutor.jobs_pending_order_idx;

alter table tutor.jobs drop constraint jobs_max_attempts_check, add constraint jobs_max_attempts_check
    check (max_attempts between 1 and 1000) not valid;
alter table tutor.jobs drop constraint jobs_backoff_check, add constraint jobs_backoff_check
    check (backoff >= interval '0' and backoff_cap >= backoff) not valid;
alter table tutor.jobs drop constraint jobs_dedup_key_check, add constraint jobs_dedup_key_check
    check (btrim(dedup_key) <> '' and length(dedup_key) <= 255) not valid;
alter table tutor.jobs drop constraint jobs_errors_check, add constraint jobs_errors_check
    check (jsonb_typeof(errors) = 'array' and jsonb_array_length(errors) <= 10) not valid;
alter table tutor.jobs drop constraint jobs_cancel_reason_check, add constraint jobs_cancel_reason_check
    check (btrim(cancel_reason) <> '' and length(cancel_reason) <= 2000) not valid;
