-- Jira OAuth tokens, one row per Jira user. The tokens arrive here encrypted
-- (tether.tickets.tokens): these statements never see one in clear.

-- name: upsert_token :one
insert into tickets.jira_auth_tokens
    (jira_user_id, access_token, refresh_token, expires_at, scopes, key_id)
values (:jira_user_id, :access_token, :refresh_token, :expires_at, :scopes, :key_id)
on conflict (jira_user_id) do update
set access_token = excluded.access_token,
    refresh_token = excluded.refresh_token,
    expires_at = excluded.expires_at,
    scopes = excluded.scopes,
    key_id = excluded.key_id
returning jira_user_id, access_token, refresh_token, expires_at, scopes, updated_at, key_id;

-- name: get_token :one
select jira_user_id, access_token, refresh_token, expires_at, scopes, updated_at, key_id
from tickets.jira_auth_tokens
where jira_user_id = :jira_user_id;

-- name: delete_token :execrows
delete from tickets.jira_auth_tokens
where jira_user_id = :jira_user_id;

-- name: tokens_to_rotate :many
-- The tokens some other key than the current one encrypted.
select jira_user_id, access_token, refresh_token, expires_at, scopes, updated_at, key_id
from tickets.jira_auth_tokens
where key_id is distinct from :key_id
order by jira_user_id;

-- name: reencrypt_tokens :execrows
-- The same tokens, encrypted again under key :key_id. A row whose access_token is
-- no longer the one read (an upsert came in between, under the current key) is
-- left as it is.
update tickets.jira_auth_tokens t
set access_token = new.access_token, refresh_token = new.refresh_token, key_id = :key_id
from unnest(:jira_user_ids::text[], :old_access_tokens::bytea[], :access_tokens::bytea[],
            :refresh_tokens::bytea[])
     as new (jira_user_id, old_access_token, access_token, refresh_token)
where t.jira_user_id = new.jira_user_id and t.access_token = new.old_access_token;
