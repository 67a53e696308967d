-- name: copy_chunks :copy
-- A reading's chunks, written with COPY: all of them or, if one breaks a rule, none.
-- Each row carries its reading's course (course_of_reading), so the database does not
-- look it up per row (chunks_tenant runs only when it is NULL).
insert into tutor.chunks (reading_id, course_id, idx, content, meta)
values (:reading_id, :course_id, :idx, :content, :meta);

-- name: course_of_reading :val
-- The course a reading's chunks belong to; NULL for a reading this role cannot see.
select course_id from tutor.readings where id = :reading_id;

-- name: chunks_of_reading :many
-- Every chunk of a reading, in order (chunks_reading_id_idx_key serves the order).
select id, reading_id, idx, content, meta
from tutor.chunks
where reading_id = :reading_id
order by idx;

-- name: chunks_page :many
-- A page of a reading's chunks in order, after chunk :after_idx (NULL: from the start).
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, reading_id, idx, content, meta
from tutor.chunks
where reading_id = :reading_id and idx > case when :after_idx::integer is null then -1
                                              else :after_idx::integer end
order by idx
limit (select :limit::integer);

-- name: delete_chunks :execrows
-- A reading's chunks, to cut it again.
delete from tutor.chunks
where reading_id = :reading_id;
