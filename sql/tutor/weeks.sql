-- name: insert_week :one
-- Week `number` (1, 2, ...) of a course: at most one of each number per course.
insert into tutor.weeks (course_id, number, title)
values (:course_id, :number, :title)
returning id, course_id, number, title, created_at;

-- name: get_week :one
select id, course_id, number, title, created_at
from tutor.weeks
where id = :id;

-- name: weeks_of_course :many
-- A course's weeks in order (uq_weeks_course_number serves the order).
select id, course_id, number, title, created_at
from tutor.weeks
where course_id = :course_id
order by number;

-- name: delete_week :execrows
-- The database cascades to the week's readings (and their chunks), summaries and
-- conversations (and their audio); the week's jobs stay, with week_id NULL.
delete from tutor.weeks
where id = :id;
