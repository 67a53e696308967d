-- Refresh tokens live in chat.users.refresh_tokens as entries {hash, key_id, family,
-- family_issued_at, issued_at, expires_at, spent_at, replaced_by, retried}: the hash is
-- the HMAC-SHA256 of the raw token under the key key_id, computed by tether before
-- anything is sent; the raw token never reaches the database. A family is one sign-in's
-- chain of rotations; a rotated token stays, spent, so that presenting it again is
-- recognised as reuse. Each operation is one UPDATE of the user's row, so it is atomic
-- and concurrent ones queue on the row lock. chat.kept_refresh_tokens drops expired
-- entries (and the oldest beyond 20 live, 40 spent) on every write.

-- name: issue_refresh_token :one
-- A new token for the user, the head of a new family, expiring after :ttl (and never
-- after the family's :lifetime).
update chat.users
set refresh_tokens = chat.kept_refresh_tokens(
        refresh_tokens
        || chat.refresh_token_entry(:token_hash::text, :key_id::text, gen_random_uuid()::text,
                                    now(), :ttl::interval, :lifetime::interval))
where id = :user_id
returning id as user_id, now() as issued_at,
          least(now() + :ttl::interval, now() + :lifetime::interval) as expires_at;

-- name: rotate_refresh_token :one
-- Verify and rotate in one statement: the user holding an unexpired entry whose hash is
-- one of :old_hashes (the presented token under each key), within its family's
-- :lifetime, gets chat.rotated_refresh_tokens' result: a new head :new_hash, a grace
-- retry, or, for a spent token, the family revoked. Two rotations of one token queue on
-- the user's row; PostgreSQL re-checks the WHERE and recomputes the SET on the row the
-- first one wrote, so the second sees the token spent. `rotated` says whether :new_hash
-- was issued; false means reuse. An expired, revoked-and-dropped or unknown token
-- matches no row. The GIN index on refresh_tokens finds the user.
with written as (
    update chat.users
    set refresh_tokens = chat.rotated_refresh_tokens(
            refresh_tokens, :old_hashes::text[], :new_hash::text, :key_id::text,
            :ttl::interval, :lifetime::interval, :grace::interval)
    where refresh_tokens @> any (array(
              select jsonb_build_array(jsonb_build_object('hash', old_hash))
              from unnest(:old_hashes::text[]) as old_hash))
      and exists (
          select 1
          from jsonb_array_elements(refresh_tokens) as entry (token)
          where entry.token ->> 'hash' = any (:old_hashes::text[])
            and (entry.token ->> 'expires_at')::timestamptz > now()
            and (entry.token ->> 'family_issued_at')::timestamptz + :lifetime::interval > now()
      )
    returning id, refresh_tokens
)
select written.id as user_id,
       (presented.token ->> 'family')::uuid as family,
       fresh.token is not null as rotated,
       (fresh.token ->> 'issued_at')::timestamptz as issued_at,
       (fresh.token ->> 'expires_at')::timestamptz as expires_at
from written
join lateral jsonb_array_elements(written.refresh_tokens) as presented (token)
    on presented.token ->> 'hash' = any (:old_hashes::text[])
left join lateral jsonb_array_elements(written.refresh_tokens) as fresh (token)
    on fresh.token ->> 'hash' = :new_hash::text;

-- name: revoke_refresh_token :execrows
-- Revoke one token (a sign-out on one device): its entry goes; expired ones go with it.
update chat.users
set refresh_tokens = chat.kept_refresh_tokens(
        (select coalesce(jsonb_agg(entry.token order by entry.position), '[]'::jsonb)
         from jsonb_array_elements(refresh_tokens) with ordinality as entry (token, position)
         where not entry.token ->> 'hash' = any (:token_hashes::text[])))
where refresh_tokens @> any (array(
          select jsonb_build_array(jsonb_build_object('hash', token_hash, 'spent_at', null))
          from unnest(:token_hashes::text[]) as token_hash));

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
     jsonb_array_elements(chat.kept_refresh_tokens(u.refresh_tokens)) as entry (token)
where u.id = :user_id and entry.token -> 'spent_at' = 'null'::jsonb;
