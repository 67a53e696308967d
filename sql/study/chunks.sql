-- name: copy_chunks :copy
-- Chunks in bulk, by binary COPY (embeddings through pgvector's binary codec). The
-- statement triggers check every parent and related topic once per COPY. A COPY
-- cannot lock first; in study's lock order all the same: its foreign keys lock the
-- session's row (FOR KEY SHARE), then its trigger the session's topic lock and the
-- topics. Its own rows are new: nobody waits for them.
insert into study.document_chunks (id, document_id, session_id, parent_chunk_id, chunk_text,
                                   embedding, type, related_topic_ids)
values (:id, :document_id, :session_id, :parent_chunk_id, :chunk_text,
        :embedding, :type, :related_topic_ids);

-- name: chunks_of_document :many
-- A document's chunks, parents before children; the session is looked up so that
-- the (session_id, document_id) index finds them.
select c.id, c.document_id, c.session_id, c.parent_chunk_id, c.chunk_text, c.embedding, c.type,
       c.related_topic_ids, c.created_at
from study.document_chunks c
where c.session_id = (select d.session_id from study.documents d where d.id = :document_id)
  and c.document_id = :document_id
order by c.type, c.created_at, c.id;

-- name: chunks_of_session :many
-- Every chunk of a session, document by document (read through a server-side cursor).
select c.id, c.document_id, c.session_id, c.parent_chunk_id, c.chunk_text, c.embedding, c.type,
       c.related_topic_ids, c.created_at
from study.document_chunks c
where c.session_id = :session_id
order by c.document_id, c.type, c.id;

-- name: relate_chunk :one
-- A chunk's related topics, replaced; each must be a topic of the chunk's session
-- (document_chunks_related_topics_fkey). Study's lock order (docs/guarantees.md,
-- "Lock order"): the session's row, the topic lock shared, then the chunk; the
-- trigger's check locks the added topics last.
with session as materialized (
    select study.lock_session(
        (select c.session_id from study.document_chunks c where c.id = :id), 'shared'
    ) as id
)
update study.document_chunks c
set related_topic_ids = :topic_ids
from session
where c.id = :id and c.session_id = session.id
returning c.id, c.document_id, c.session_id, c.parent_chunk_id, c.chunk_text, c.embedding,
          c.type, c.related_topic_ids, c.created_at;

-- name: delete_document_chunks :execrows
-- Every chunk of a document (to chunk it again); children go with their parents.
-- Study's lock order: the session's row, the topic lock shared, then the chunks.
with session as materialized (
    select study.lock_session(
        (select d.session_id from study.documents d where d.id = :document_id), 'shared'
    ) as id
)
delete from study.document_chunks c
using session
where c.session_id = session.id and c.document_id = :document_id;

-- name: nearest_chunks :one
-- The k chunks of a session nearest to :query by cosine distance, each with its
-- parent chunk (small-to-big), in one round trip; fewer than k only when the
-- session has fewer than k embedded chunks. How the chunks are found depends on
-- the size of the slice (docs/study.md, "Retrieval"):
-- - below sqrt(3 k N) chunks (N: the table's rows, as ANALYZE last counted them),
--   or when :exact, every chunk of the slice is read and compared (exact);
-- - above, when the slice reaches into the query's neighbourhood (some of its 40
--   nearest chunks in the table are the slice's), the HNSW index with pgvector's
--   iterative scan (study.approximate_neighbours); should it come back with fewer
--   than k, the slice is read after all (exact_fallback);
-- - above, but with none of the slice near the question: exact, as below the line.
-- `method` says which: exact, hnsw, or exact_fallback. The enum and the uuid[] travel
-- as text inside the rows of `hits`: asyncpg decodes an anonymous row only of types
-- it knows on every connection (the record turns them back).
with plan as (
    select case when :exact::boolean then 2147483647
                else greatest(:k::integer,
                              ceil(sqrt(3.0 * :k::integer * greatest(t.reltuples, 0)))::integer)
           end as exact_below
    from pg_catalog.pg_class t
    where t.oid = 'study.document_chunks'::regclass
),
slice as materialized (
    -- Counted no further than the size that decides.
    select count(*) >= (select exact_below from plan) as large
    from (
        select
        from study.document_chunks c
        where c.session_id = :session_id and c.embedding is not null
        limit (select exact_below from plan)
    ) as counted
),
near as materialized (
    -- How many of the query's 40 nearest chunks of the whole table (by the index, with
    -- pgvector's defaults: one short scan) lie in the slice. None: the question is
    -- outside the slice's own neighbourhood, where a scan filtered to the slice would
    -- wander far (slower than reading the slice) and miss neighbours: read the slice.
    select count(*) filter (where n.session_id = :session_id) > 0 as inside
    from slice
    cross join lateral (
        select c.session_id
        from study.document_chunks c
        where slice.large
        order by c.embedding operator(public.<=>) :query::public.vector
        limit 40
    ) as n
),
approximate as materialized (
    select a.id, a.distance
    from near
    cross join lateral study.approximate_neighbours(
        :session_id, :query::public.vector, case when near.inside then :k::integer else 0 end,
        null
    ) as a
),
exact as materialized (
    -- Every chunk of the slice with its distance; no ORDER BY here, so that no index
    -- stands in for reading them all.
    select c.id, c.embedding operator(public.<=>) :query::public.vector as distance
    from study.document_chunks c
    where (select count(*) from approximate) < :k::integer
      and c.session_id = :session_id and c.embedding is not null
),
hits as (
    select id, distance from approximate where (select count(*) from approximate) = :k::integer
    union all
    (select id, distance from exact order by distance, id limit :k::integer)
)
select :k::integer as k,
       case when not (select large from slice) or not (select inside from near) then 'exact'
            when (select count(*) from approximate) = :k::integer then 'hnsw'
            else 'exact_fallback'
       end as method,
       array(
           select row(c.id, c.document_id, c.type::text, c.chunk_text, h.distance,
                      c.related_topic_ids::text[],
                      p.id, p.chunk_text)
           from hits h
           join study.document_chunks c on c.id = h.id
           left join study.document_chunks p on p.id = c.parent_chunk_id
           order by h.distance, h.id
       ) as hits;

-- name: nearest_related_chunks :one
-- nearest_chunks, among the chunks related to any of :topic_ids only (the GIN index
-- on related_topic_ids finds them). A query of its own rather than an optional
-- filter: a prepared statement's generic plan could not use the GIN index for
-- `(:topic_ids is null or ...)`.
with plan as (
    select case when :exact::boolean then 2147483647
                else greatest(:k::integer,
                              ceil(sqrt(3.0 * :k::integer * greatest(t.reltuples, 0)))::integer)
           end as exact_below
    from pg_catalog.pg_class t
    where t.oid = 'study.document_chunks'::regclass
),
slice as materialized (
    select count(*) >= (select exact_below from plan) as large
    from (
        select
        from study.document_chunks c
        where c.session_id = :session_id and c.embedding is not null
          and c.related_topic_ids && :topic_ids::uuid[]
        limit (select exact_below from plan)
    ) as counted
),
near as materialized (
    -- As in nearest_chunks: does the slice reach into the query's neighbourhood?
    select count(*) filter (
               where n.session_id = :session_id and n.related_topic_ids && :topic_ids::uuid[]
           ) > 0 as inside
    from slice
    cross join lateral (
        select c.session_id, c.related_topic_ids
        from study.document_chunks c
        where slice.large
        order by c.embedding operator(public.<=>) :query::public.vector
        limit 40
    ) as n
),
approximate as materialized (
    select a.id, a.distance
    from near
    cross join lateral study.approximate_neighbours(
        :session_id, :query::public.vector, case when near.inside then :k::integer else 0 end,
        :topic_ids::uuid[]
    ) as a
),
exact as materialized (
    select c.id, c.embedding operator(public.<=>) :query::public.vector as distance
    from study.document_chunks c
    where (select count(*) from approximate) < :k::integer
      and c.session_id = :session_id and c.embedding is not null
      and c.related_topic_ids && :topic_ids::uuid[]
),
hits as (
    select id, distance from approximate where (select count(*) from approximate) = :k::integer
    union all
    (select id, distance from exact order by distance, id limit :k::integer)
)
select :k::integer as k,
       case when not (select large from slice) or not (select inside from near) then 'exact'
            when (select count(*) from approximate) = :k::integer then 'hnsw'
            else 'exact_fallback'
       end as method,
       array(
           select row(c.id, c.document_id, c.type::text, c.chunk_text, h.distance,
                      c.related_topic_ids::text[],
                      p.id, p.chunk_text)
           from hits h
           join study.document_chunks c on c.id = h.id
           left join study.document_chunks p on p.id = c.parent_chunk_id
           order by h.distance, h.id
       ) as hits;
