-- A session and what hangs off it one to one (its task, its validation, its Jira
-- project context) or in few rows (its uploaded files): the session aggregate.

-- name: insert_session :one
insert into tickets.sessions (jira_user_id, title)
values (:jira_user_id, :title)
returning id, jira_user_id, title, status, created_at, updated_at;

-- name: get_session :one
select id, jira_user_id, title, status, created_at, updated_at
from tickets.sessions
where id = :id;

-- name: session_aggregate :one
-- The session with its files (upload order), task, validation and project context,
-- in one round trip: the files as an array of rows, each 1:1 as a row or NULL.
-- jsonb inside a row travels as json (asyncpg decodes nested values in binary,
-- where jsonb carries a version byte that json does not).
select row(s.id, s.jira_user_id, s.title, s.status, s.created_at, s.updated_at) as session,
       array(
           select row(f.id, f.session_id, f.filename, f.file_path, f.content_type, f.size_bytes,
                      f.uploaded_at)
           from tickets.uploaded_files f
           where f.session_id = s.id
           order by f.uploaded_at, f.id
       ) as files,
       (
           select row(t.id, t.session_id, t.status, t.stage, t.progress, t.error, t.started_at,
                      t.updated_at)
           from tickets.session_tasks t
           where t.session_id = s.id
       ) as task,
       (
           select row(v.id, v.session_id, v.is_valid, v.errors::json, v.validated_at)
           from tickets.session_validations v
           where v.session_id = s.id
       ) as validation,
       (
           select row(c.session_id, c.project_key, c.project_name, c.issue_types::json,
                      c.priorities::json, c.fetched_at)
           from tickets.jira_project_context c
           where c.session_id = s.id
       ) as project_context
from tickets.sessions s
where s.id = :id;

-- name: set_session_status :one
update tickets.sessions
set status = :status
where id = :id
returning id, jira_user_id, title, status, created_at, updated_at;

-- name: delete_session :execrows
-- The database cascades to the session's files, task, validation, project context,
-- tickets (their dependencies and attachments) and errors; its audit events stay,
-- their session_id set NULL. Jira tokens are not the session's: they stay too.
delete from tickets.sessions
where id = :id;

-- name: insert_file :one
insert into tickets.uploaded_files (session_id, filename, file_path, content_type, size_bytes)
values (:session_id, :filename, :file_path, :content_type, :size_bytes)
returning id, session_id, filename, file_path, content_type, size_bytes, uploaded_at;

-- name: delete_file :execrows
-- Errors about the file keep their row; only their related_file_id is cleared.
-- The session's row is locked first (the lock order: sql/tickets/tickets.sql).
with session as materialized (
    select s.id from tickets.sessions s
    where s.id = (select f.session_id from tickets.uploaded_files f where f.id = :id)
    for no key update
)
delete from tickets.uploaded_files f
using session
where f.id = :id and f.session_id = session.id;

-- name: upsert_task :one
-- The session's one task, new or started over: pending, no progress, no error.
insert into tickets.session_tasks (session_id, status, stage)
values (:session_id, 'pending', :stage)
on conflict (session_id) do update
set status = 'pending', stage = excluded.stage, progress = 0, error = null, started_at = now()
returning id, session_id, status, stage, progress, error, started_at, updated_at;

-- name: update_task :one
-- A step of the session's task; a NULL stage or progress keeps the one it had.
update tickets.session_tasks
set status = :status,
    stage = coalesce(:stage, stage),
    progress = coalesce(:progress, progress),
    error = :error
where session_id = :session_id
returning id, session_id, status, stage, progress, error, started_at, updated_at;

-- name: upsert_validation :one
-- The session's latest validation replaces the one before.
insert into tickets.session_validations (session_id, is_valid, errors)
values (:session_id, :is_valid, :errors)
on conflict (session_id) do update
set is_valid = excluded.is_valid, errors = excluded.errors, validated_at = now()
returning id, session_id, is_valid, errors, validated_at;

-- name: upsert_project_context :one
-- What was last fetched from Jira about the session's project replaces what was before.
insert into tickets.jira_project_context
    (session_id, project_key, project_name, issue_types, priorities)
values (:session_id, :project_key, :project_name, :issue_types, :priorities)
on conflict (session_id) do update
set project_key = excluded.project_key,
    project_name = excluded.project_name,
    issue_types = excluded.issue_types,
    priorities = excluded.priorities,
    fetched_at = now()
returning session_id, project_key, project_name, issue_types, priorities, fetched_at;
