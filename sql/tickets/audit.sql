-- The audit log: appended to, read back, never changed (the database refuses).

-- name: insert_audit_event :one
insert into tickets.audit_log (session_id, action, actor, details)
values (:session_id, :action, :actor, :details)
returning id, session_id, action, actor, details, created_at, recorded_session_id;

-- name: audit_page_of_session :many
-- The events recorded about a session, newest first, after the cursor's id; they
-- are found by recorded_session_id, so a deleted session's trail reads the same.
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, session_id, action, actor, details, created_at, recorded_session_id
from tickets.audit_log
where recorded_session_id = :session_id
  and id < case when :after_id::bigint is null then 9223372036854775807
                else :after_id::bigint end
order by id desc
limit (select :limit::integer);

-- name: audit_page :many
-- Every event, newest first, after the cursor's id.
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, session_id, action, actor, details, created_at, recorded_session_id
from tickets.audit_log
where id < case when :after_id::bigint is null then 9223372036854775807
                else :after_id::bigint end
order by id desc
limit (select :limit::integer);
