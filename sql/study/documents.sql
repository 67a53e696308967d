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
-- The extracted text and where processing stands, together.
update study.documents
set content_text = :content_text, processing_status = :processing_status
where id = :id
returning id, session_id, file_name, file_path, file_description, content_text, content_length,
          processing_status, created_at;

-- name: set_processing_status :one
update study.documents
set processing_status = :processing_status
where id = :id
returning id, session_id, file_name, file_path, file_description, content_text, content_length,
          processing_status, created_at;

-- name: delete_document :execrows
-- The database cascades to the document's chunks.
delete from study.documents
where id = :id;
