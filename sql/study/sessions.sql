-- name: insert_session :one
-- A new session; it starts UPLOADING.
insert into study.study_sessions (profile_id, title, description)
values (:profile_id, :title, :description)
returning id, profile_id, title, description, status, draft_plan, created_at, updated_at;

-- name: get_session :one
select id, profile_id, title, description, status, draft_plan, created_at, updated_at
from study.study_sessions
where id = :id;

-- name: session_with_documents :one
-- A session and its documents (without their text), in one round trip: the
-- session as a row, the documents as an array of rows, oldest first (enums as text:
-- asyncpg decodes an anonymous row only of types it knows; jsonb inside a row travels
-- as json, as asyncpg decodes nested values in binary, where jsonb has a version byte).
select row(s.id, s.profile_id, s.title, s.description, s.status::text, s.draft_plan::json,
           s.created_at, s.updated_at) as session,
       array(
           select row(d.id, d.session_id, d.file_name, d.file_path, d.file_description,
                      d.content_length, d.processing_status::text, d.created_at)
           from study.documents d
           where d.session_id = s.id
           order by d.created_at, d.file_name, d.id
       ) as documents
from study.study_sessions s
where s.id = :id;

-- name: sessions_page :many
-- A profile's sessions newest first, a keyset page after (created_at, id).
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, profile_id, title, description, status, draft_plan, created_at, updated_at
from study.study_sessions
where profile_id = :profile_id
  and (created_at, id) < (case when :after_created_at::timestamptz is null then 'infinity'
                               else :after_created_at::timestamptz end,
                          case when :after_id::uuid is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'
                               else :after_id::uuid end)
order by created_at desc, id desc
limit (select :limit::integer);

-- name: move_session :one
-- Compare-and-set: the session moves to to_status only if it is in from_status
-- now; no row when it is not (or does not exist). The database refuses a move the
-- seed does not allow (study_sessions_status_move_check).
update study.study_sessions
set status = :to_status
where id = :id and status = :from_status
returning id, profile_id, title, description, status, draft_plan, created_at, updated_at;

-- name: session_status :val
-- Where a session is now: what a lost compare-and-set reports.
select status from study.study_sessions where id = :id;

-- name: set_draft_plan :one
-- The plan as the AI drafted it or the student edited it (NULL: none); its shape
-- is checked by study_sessions_draft_plan_check.
update study.study_sessions
set draft_plan = :draft_plan
where id = :id
returning id, profile_id, title, description, status, draft_plan, created_at, updated_at;

-- name: delete_session :execrows
-- The database cascades to the session's documents, topics, chats, messages and chunks
-- (documents and their chunks first: cascades run in their triggers' name order, the
-- oldest foreign key first). Study's lock order holds all the same: the row is locked
-- FOR UPDATE before any cascade, and every write of its chunks and topics holds it
-- FOR KEY SHARE first, so one waits for the other whole.
delete from study.study_sessions
where id = :id;
