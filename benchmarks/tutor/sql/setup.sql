-- Untimed setup of the tutor's benchmark: what the fixtures read back after COPY,
-- and the cleanup between timed runs.

-- name: user_id :val
select id from tutor.users where lower(email) = lower(:email);

-- name: course_id :val
select id from tutor.courses where code = :code;

-- name: week_ids :many
-- A course's weeks, in order.
select id from tutor.weeks where course_id = :course_id order by number;

-- name: reading_ids :many
select id from tutor.readings where week_id = any(:week_ids::bigint[]) order by id;

-- name: conversation_ids :many
select id from tutor.conversations where week_id = any(:week_ids::bigint[]) order by id;

-- name: forget_jobs :execrows
-- Undo a timed bulk enqueue.
delete from tutor.jobs where kind = :kind;

-- name: forget_chunks :execrows
-- Undo a timed bulk chunk write.
delete from tutor.chunks where reading_id = :reading_id;

-- name: pending_jobs :val
select count(*) from tutor.jobs where kind = :kind and status = 'pending';

-- name: week_exists :val
select exists (select 1 from tutor.weeks where id = :id);

-- name: vacuum_tutor :exec
-- After a timed bulk write or delete, so that the next one starts from the same
-- table state rather than from its predecessors' dead rows.
vacuum tutor.users, tutor.courses, tutor.weeks, tutor.readings, tutor.jobs, tutor.chunks,
       tutor.summaries, tutor.conversations, tutor.audio_blobs;

-- name: vacuum_analyze_jobs :exec
vacuum analyze tutor.jobs;

-- name: course_of_week :val
select course_id from tutor.weeks where id = :week_id;
