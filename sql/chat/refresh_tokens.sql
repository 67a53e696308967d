-- Refresh tokens live in chat.users.refresh_tokens as {hash, issued_at, expires_at}
-- entries: the hash is the HMAC-SHA256 of the raw token, computed by tether before
-- anything is sent; the raw token never reaches the database. Each operation is one
-- UPDATE of the user's row, so it is atomic and concurrent ones queue on the row lock.
-- chat.live_refresh_tokens drops expired entries on every write.

-- name: issue_refresh_token :one
-- A new token for the user, expiring after :ttl; of the user's other live tokens the
-- newest 19 are kept (at most 20 per user: users_refresh_tokens_check).
update chat.users
set refresh_tokens = chat.live_refresh_tokens(refresh_tokens, null, 19)
    || jsonb_build_array(jsonb_build_object(
           'hash', :token_hash::text,
           'issued_at', now(),
           'expires_at', now() + :ttl::interval))
where id = :user_id
returning id as user_id, now() as issued_at, now() + :ttl::interval as expires_at;

-- name: rotate_refresh_token :one
-- Verify and rotate in one statement: the user holding a live token with :old_hash
-- gets a new one in its place. Two rotations of one token queue on the user's row;
-- the second finds the old hash gone (PostgreSQL re-checks the WHERE on the row the
-- first one wrote) and updates nothing. An expired, revoked or unknown token
-- matches no row. The GIN index on refresh_tokens finds the user.
update chat.users
set refresh_tokens = chat.live_refresh_tokens(refresh_tokens, :old_hash::text, 19)
    || jsonb_build_array(jsonb_build_object(
           'hash', :new_hash::text,
           'issued_at', now(),
           'expires_at', now() + :ttl::interval))
where refresh_tokens @> jsonb_build_array(jsonb_build_object('hash', :old_hash::text))
  and exists (
      select 1
      from jsonb_array_elements(refresh_tokens) as entry (token)
      where entry.token ->> 'hash' = :old_hash::text
        and (entry.token ->> 'expires_at')::timestamptz > now()
  )
returning id as user_id, now() as issued_at, now() + :ttl::interval as expires_at;

-- name: revoke_refresh_token :execrows
-- Remove one token (a sign-out on one device); expired ones go with it.
update chat.users
set refresh_tokens = chat.live_refresh_tokens(refresh_tokens, :token_hash::text, 20)
where refresh_tokens @> jsonb_build_array(jsonb_build_object('hash', :token_hash::text));

-- name: revoke_all_refresh_tokens :execrows
-- Every token of the user (a sign-out everywhere).
update chat.users
set refresh_tokens = '[]'::jsonb
where id = :user_id;

-- name: list_refresh_tokens :many
-- When the user's live tokens were issued and when they expire, oldest first: what a
-- "signed-in devices" page shows. Never the hashes.
select (entry.token ->> 'issued_at')::timestamptz as issued_at,
       (entry.token ->> 'expires_at')::timestamptz as expires_at
from chat.users as u,
     jsonb_array_elements(chat.live_refresh_tokens(u.refresh_tokens, null, 20))
         as entry (token)
where u.id = :user_id;
