-- name: insert_profile :one
-- A new profile. The password arrives hashed (the application hashes it); the
-- e-mail address is unique whatever its case.
insert into study.profiles (email, password_hash)
values (:email, :password_hash)
returning id, email, password_hash, created_at;

-- name: get_profile :one
select id, email, password_hash, created_at
from study.profiles
where id = :id;

-- name: find_profile_by_email :one
-- Case-insensitive, through the unique index on lower(email).
select id, email, password_hash, created_at
from study.profiles
where lower(email) = lower(:email);

-- name: delete_profile :execrows
-- The database cascades to the profile's sessions and everything in them.
delete from study.profiles
where id = :id;
