-- name: insert_user :one
-- A new user (a student unless a role is given); the e-mail address is unique
-- whatever its case.
insert into tutor.users (email, name, role)
values (:email, :name, coalesce(:role::text, 'student'))
returning id, email, name, role, created_at;

-- name: get_user :one
select id, email, name, role, created_at
from tutor.users
where id = :id;

-- name: find_user_by_email :one
-- Case-insensitive, through the unique index on lower(email).
select id, email, name, role, created_at
from tutor.users
where lower(email) = lower(:email);

-- name: update_user :one
-- A new name and/or role; a NULL keeps the current value.
update tutor.users
set name = coalesce(:name::text, name),
    role = coalesce(:role::text, role)
where id = :id
returning id, email, name, role, created_at;

-- name: delete_user :execrows
-- The database cascades to the user's courses (and all below them), summaries and
-- conversations (with their audio).
delete from tutor.users
where id = :id;
