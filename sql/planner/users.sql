-- name: insert_user :one
-- A new user; the e-mail address is unique whatever its case.
insert into planner.users (email, name)
values (:email, :name)
returning id, email, name, created_at;

-- name: get_user :one
select id, email, name, created_at
from planner.users
where id = :id;

-- name: find_user_by_email :one
-- Case-insensitive, through the unique index on lower(email).
select id, email, name, created_at
from planner.users
where lower(email) = lower(:email);

-- name: delete_user :execrows
-- The database cascades to the user's subjects, plans, tasks and feedback.
delete from planner.users
where id = :id;
