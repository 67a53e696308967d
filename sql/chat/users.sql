-- name: insert_user :one
-- A new user: with the hash of a password the service computed, or none (OAuth).
-- The e-mail address is unique whatever its case.
insert into chat.users (email, hashed_password, name, role)
values (:email, :hashed_password, :name, :role)
returning id, email, hashed_password, name, role, created_at;

-- name: get_user :one
select id, email, hashed_password, name, role, created_at
from chat.users
where id = :id;

-- name: find_user_by_email :one
-- Case-insensitive, through the unique index on lower(email).
select id, email, hashed_password, name, role, created_at
from chat.users
where lower(email) = lower(:email);

-- name: change_password :one
-- A new password hash (or none: OAuth only); every refresh token of the user is
-- revoked in the same statement, so sessions opened with the old password end.
update chat.users
set hashed_password = :hashed_password,
    refresh_tokens = '[]'::jsonb
where id = :id
returning id, email, hashed_password, name, role, created_at;

-- name: delete_user :execrows
-- The database cascades to the user's conversations and their messages.
delete from chat.users
where id = :id;
