-- Untimed setup of the planner's benchmark: what the fixtures read back after COPY,
-- and the cleanup between timed runs.

-- name: user_ids :many
-- Users by e-mail address (lower-case), through the unique index on lower(email).
select lower(email), id
from planner.users
where lower(email) = any(:emails::text[]);

-- name: subject_ids :many
select student_id, name, id
from planner.subjects
where student_id = any(:user_ids::bigint[]);

-- name: plan_ids :many
select user_id, generation_id, date, id
from planner.plans
where user_id = any(:user_ids::bigint[]);

-- name: forget_plans :execrows
-- Undo a timed bulk insert: the user's plans and, by cascade, their tasks.
delete from planner.plans
where user_id = :user_id;

-- name: vacuum_planner :exec
-- After a timed bulk write or delete, so that the next one starts from the same
-- table state rather than from its predecessors' dead rows.
vacuum planner.users, planner.subjects, planner.plans, planner.ai_tasks, planner.feedback;

-- name: user_exists :val
select exists (select 1 from planner.users where id = :id);

-- name: analyze_planner :exec
-- After the scale figures' fixtures: statistics (a heavy user owns much of the
-- table) and the visibility map, as a live database's autovacuum keeps them.
vacuum analyze planner.users, planner.subjects, planner.plans, planner.ai_tasks,
    planner.feedback;
