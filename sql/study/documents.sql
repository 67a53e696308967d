-- name: insert_document :one
-- A document of a session; content_length is computed by the database.
insert into study.documents (session_id, file_name, file_path, file_description, content_text)
values (:session_id, :file_name, :file_path, :file_description, :content_text)
returning id, session_id, file_name, file_path, file_description, content_text, content_length,
          processing_status, created_at;

-- name: get_document :one
select id, session_id, file_name, file_path, file_description, content_text, content_length,
       processing_status, created_at
from study.documents
where id = :id;

-- name: set_document_text :one
-- The extracted text and where processing stands, together. Study's lock order: the
-- session's row only (no topic's delete touches documents), then the document.
with session as materialized (
    select study.lock_session(
        (select d.session_id from study.documents d where d.id = :id), 'none'
    ) as id
)
update study.documents d
set content_text = :content_text, processing_status = :processing_status
from session
where d.id = :id and d.session_id = session.id
returning d.id, d.session_id, d.file_name, d.file_path, d.file_description, d.content_text,
          d.content_length, d.processing_status, d.created_at;

-- name: set_processing_status :one
-- Study's lock order: the session's row only, as set_document_text.
with session as materialized (
    select study.lock_session(
        (select d.session_id from study.documents d where d.id = :id), 'none'
    ) as id
)
update study.documents d
set processing_status = :processing_status
from session
where d.id = :id and d.session_id = session.id
returning d.id, d.session_id, d.file_name, d.file_path, d.file_description, d.content_text,
          d.content_length, d.processing_status, d.created_at;

-- name: delete_document :execrows
-- The database cascades to the document's chunks. Study's lock order: the session's
-- row, the topic lock shared, then the document and its chunks.
with session as materialized (
    select study.lock_session(
        (select d.session_id from study.documents d where d.id = :id), 'shared'
    ) as id
)
delete from study.documents d
using session
where d.id = :id and d.session_id = session.id;
