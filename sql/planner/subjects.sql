-- name: insert_subject :one
insert into planner.subjects (student_id, name)
values (:student_id, :name)
returning id, student_id, name, created_at;

-- name: list_subjects :many
-- A student's subjects by name (the unique index on (student_id, name) serves the order).
select id, student_id, name, created_at
from planner.subjects
where student_id = :student_id
order by name;

-- name: delete_subject :execrows
-- The database cascades to every task of the subject, in every generation.
delete from planner.subjects
where id = :id;
