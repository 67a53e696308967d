-- squawk-ignore-file ban-drop-constraint, ban-drop-column -- back to the schema before tutor_0004_queue: the queue's columns and their checks go
set local lock_timeout = '5s';
set local statement_timeout = '5s';
drop statistics tutor.jobs_status_kind_stats;
alter table tutor.jobs drop constraint jobs_cancel_reason_check;
alter table tutor.jobs drop constraint jobs_errors_check;
alter table tutor.jobs drop constraint jobs_dedup_key_check;
alter table tutor.jobs drop constraint jobs_backoff_check;
alter table tutor.jobs drop constraint jobs_max_attempts_check;
alter table tutor.jobs drop column cancel_reason;
alter table tutor.jobs drop column errors;
alter table tutor.jobs drop column dedup_key;
alter table tutor.jobs drop column backoff_cap;
alter table tutor.jobs drop column backoff;
alter table tutor.jobs drop column max_attempts;
alter table tutor.jobs drop column run_at;
alter table tutor.jobs drop column priority;
