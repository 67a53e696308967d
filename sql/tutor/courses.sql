-- name: insert_course :one
-- A professor's new course; its code is unique.
insert into tutor.courses (name, code, professor_id)
values (:name, :code, :professor_id)
returning id, name, code, professor_id, created_at;

-- name: get_course :one
select id, name, code, professor_id, created_at
from tutor.courses
where id = :id;

-- name: find_course_by_code :one
-- Through the unique index on code.
select id, name, code, professor_id, created_at
from tutor.courses
where code = :code;

-- name: courses_of_professor :many
-- A professor's courses by code.
select id, name, code, professor_id, created_at
from tutor.courses
where professor_id = :professor_id
order by code;

-- name: update_course :one
-- A new name and/or code; a NULL keeps the current value.
update tutor.courses
set name = coalesce(:name::text, name),
    code = coalesce(:code::text, code)
where id = :id
returning id, name, code, professor_id, created_at;

-- name: delete_course :execrows
-- The database cascades to the course's weeks and everything of theirs; the jobs
-- of those weeks stay, with week_id NULL.
delete from tutor.courses
where id = :id;
