-- Untimed setup of the study benchmark: ids read back after COPY, the cleanup
-- between timed runs, and what the retrieval figures compare tether with.

-- name: session_ids :many
-- Sessions by title, for the fixtures (titles are unique within the benchmark).
select title, id from study.study_sessions where profile_id = :profile_id;

-- name: forget_chunks :execrows
-- Undo a timed chunk write: every chunk of the document.
delete from study.document_chunks where document_id = :document_id;

-- name: vacuum_study :exec
vacuum study.document_chunks, study.study_sessions;

-- name: drop_hnsw :exec
-- The figures load their 100,000 chunks without the index, then time its build.
drop index study.document_chunks_embedding_idx;

-- name: build_hnsw :exec
-- The migration's own definition (migrations/study/study_0001_schema.sql).
create index document_chunks_embedding_idx
    on study.document_chunks using hnsw (embedding public.vector_cosine_ops);

-- name: generous_memory :exec
-- For the index build: the graph of 100,000 x 768 fits in memory.
set maintenance_work_mem = '1GB';

-- name: analyze_chunks :exec
vacuum analyze study.document_chunks;

-- name: index_only :exec
-- For the next statement of the transaction: no sort, so the HNSW index is the way
-- to the order (as when the planner picks it for a filtered query).
set local enable_sort = off;

-- name: plain_nearest :many
-- The search as pgvector's README writes it (and as an ORM sends it), run on the
-- index with pgvector's defaults (no iterative scan, ef_search 40): the filter
-- comes after the index.
select id
from study.document_chunks
where session_id = :session_id
order by embedding <=> :query::public.vector
limit :k;

-- name: plain_nearest_related :many
select id
from study.document_chunks
where session_id = :session_id and related_topic_ids && :topic_ids::uuid[]
order by embedding <=> :query::public.vector
limit :k;

-- name: insert_chunk_text :exec
-- One chunk, its embedding as a text literal ('[0.1,0.2,...]') the server parses.
insert into study.document_chunks (id, document_id, session_id, parent_chunk_id, chunk_text,
                                   embedding, type, related_topic_ids)
values (:id, :document_id, :session_id, :parent_chunk_id, :chunk_text,
        :embedding::text::public.vector, :type::study.chunk_type, :related_topic_ids);
