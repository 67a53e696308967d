-- Errors met while working on a session.

-- name: insert_error :one
-- The file and the ticket, when given, must be the session's own. The session's
-- row is locked first (the lock order: sql/tickets/tickets.sql).
with session as materialized (
    select s.id from tickets.sessions s where s.id = :session_id for no key update
)
insert into tickets.session_errors
    (session_id, related_file_id, related_ticket_id, error_type, message, details)
select :session_id::uuid, :related_file_id::uuid, :related_ticket_id::uuid, :error_type::text,
       :message::text, :details::jsonb
from (select count(*) from session) as locked
returning id, session_id, related_file_id, related_ticket_id, error_type, message, details,
          created_at;

-- name: errors_page :many
-- A session's errors, newest first, after the cursor's (created_at, id).
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, session_id, related_file_id, related_ticket_id, error_type, message, details,
       created_at
from tickets.session_errors
where session_id = :session_id
  and (created_at, id) < (case when :after_created_at::timestamptz is null then 'infinity'
                               else :after_created_at::timestamptz end,
                          case when :after_id::uuid is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'
                               else :after_id::uuid end)
order by created_at desc, id desc
limit (select :limit::integer);
