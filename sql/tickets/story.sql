-- name: rows_of_session :many
-- How many rows of each tickets table belong to one session, counted by the
-- database; audit events by the session they were recorded about.
select 'sessions' as table_name, count(*) as row_count
from tickets.sessions where id = :session_id
union all
select 'uploaded_files', count(*) from tickets.uploaded_files where session_id = :session_id
union all
select 'session_tasks', count(*) from tickets.session_tasks where session_id = :session_id
union all
select 'session_validations', count(*)
from tickets.session_validations where session_id = :session_id
union all
select 'jira_project_context', count(*)
from tickets.jira_project_context where session_id = :session_id
union all
select 'tickets', count(*) from tickets.tickets where session_id = :session_id
union all
select 'ticket_dependencies', count(*)
from tickets.ticket_dependencies where session_id = :session_id
union all
select 'attachments', count(*) from tickets.attachments where session_id = :session_id
union all
select 'session_errors', count(*) from tickets.session_errors where session_id = :session_id
union all
select 'audit_log', count(*) from tickets.audit_log where recorded_session_id = :session_id;

-- name: token_at_rest :one
-- What the database holds of a Jira user's tokens: the key id, the size of each
-- ciphertext, and whether `raw` shows anywhere in the table's rows as text.
select key_id,
       octet_length(access_token) as access_size,
       octet_length(refresh_token) as refresh_size,
       exists (
           select 1 from tickets.jira_auth_tokens t where strpos(t::text, :raw) > 0
       ) as raw_text_found
from tickets.jira_auth_tokens
where jira_user_id = :jira_user_id;
