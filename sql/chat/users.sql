-- name: insert_user :one
-- A new user who signs in with a password, the hash the service computed (a PHC
-- string: users_hashed_password_check). The e-mail address is unique whatever its case,
-- and unverified until the service says otherwise (verify_email).
insert into chat.users (email, hashed_password, name, role)
values (:email, :hashed_password, :name, :role)
returning id, email, hashed_password, name, role, created_at,
          email_verified, oauth_provider, oauth_subject;

-- name: sign_in_oauth :one
-- The user of an OAuth identity (provider, subject), in one statement: the one linked to
-- it; else, when the provider says the e-mail is verified, the account with that e-mail
-- (any case) not yet linked to an identity, which is linked now (if that account's own
-- address was never verified, whoever set its password did not prove it: the password
-- and its sessions are cleared); else a new user. An identity whose e-mail is not
-- verified never takes over an account: a taken address is EmailTaken (users_email_key).
with known as (
    select id, email, hashed_password, name, role, created_at,
           email_verified, oauth_provider, oauth_subject
    from chat.users
    where oauth_provider = :provider and oauth_subject = :subject
),
linked as (
    update chat.users as u
    set oauth_provider = :provider,
        oauth_subject = :subject,
        hashed_password = case when u.email_verified then u.hashed_password end,
        refresh_tokens = case when u.email_verified then u.refresh_tokens else '[]'::jsonb end,
        email_verified = true
    where lower(u.email) = lower(:email)
      and :email_verified::boolean
      and u.oauth_provider is null
      and not exists (select 1 from known)
    returning u.id, u.email, u.hashed_password, u.name, u.role, u.created_at,
              u.email_verified, u.oauth_provider, u.oauth_subject
),
created as (
    insert into chat.users (email, name, email_verified, oauth_provider, oauth_subject)
    select :email, :name, :email_verified::boolean, :provider, :subject
    where not exists (select 1 from known) and not exists (select 1 from linked)
    returning id, email, hashed_password, name, role, created_at,
              email_verified, oauth_provider, oauth_subject
)
select * from known
union all
select * from linked
union all
select * from created;

-- name: verify_email :one
-- The user proved their address (the service's link was followed).
update chat.users
set email_verified = true
where id = :id
returning id, email, hashed_password, name, role, created_at,
          email_verified, oauth_provider, oauth_subject;

-- name: get_user :one
select id, email, hashed_password, name, role, created_at,
       email_verified, oauth_provider, oauth_subject
from chat.users
where id = :id;

-- name: find_user_by_email :one
-- Case-insensitive, through the unique index on lower(email).
select id, email, hashed_password, name, role, created_at,
       email_verified, oauth_provider, oauth_subject
from chat.users
where lower(email) = lower(:email);

-- name: change_password :one
-- A new password hash (or none: OAuth only); every refresh token of the user is
-- revoked in the same statement, so sessions opened with the old password end.
update chat.users
set hashed_password = :hashed_password,
    refresh_tokens = '[]'::jsonb
where id = :id
returning id, email, hashed_password, name, role, created_at,
          email_verified, oauth_provider, oauth_subject;

-- name: delete_user :execrows
-- The database cascades to the user's conversations and their messages.
delete from chat.users
where id = :id;
