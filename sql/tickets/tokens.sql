-- Jira OAuth tokens, one row per Jira user. The tokens arrive here encrypted
-- (tether.tickets.tokens): these statements never see one in clear. Each write
-- carries a version drawn first (next_token_versions), which the encryption binds:
-- the database refuses a version that does not grow (tickets_0003_token_versions).

-- name: next_token_versions :val
-- :count new row versions, in increasing order.
select array_agg(pg_catalog.nextval('tickets.jira_auth_token_versions') order by n)
from generate_series(1, :count::int) as n;

-- name: upsert_token :one
insert into tickets.jira_auth_tokens
    (jira_user_id, access_token, refresh_token, expires_at, scopes, key_id, version)
values (:jira_user_id, :access_token, :refresh_token, :expires_at, :scopes, :key_id, :version)
on conflict (jira_user_id) do update
set access_token = excluded.access_token,
    refresh_token = excluded.refresh_token,
    expires_at = excluded.expires_at,
    scopes = excluded.scopes,
    key_id = excluded.key_id,
    version = excluded.version
returning jira_user_id, access_token, refresh_token, expires_at, scopes, updated_at, key_id,
    version;

-- name: get_token :one
select jira_user_id, access_token, refresh_token, expires_at, scopes, updated_at, key_id, version
from tickets.jira_auth_tokens
where jira_user_id = :jira_user_id;

-- name: delete_token :execrows
delete from tickets.jira_auth_tokens
where jira_user_id = :jira_user_id;

-- name: tokens_to_rotate :many
-- The next :batch tokens after :after (by Jira user id) that another key than the
-- current one encrypted, or that were written before rows had versions.
select jira_user_id, access_token, refresh_token, expires_at, scopes, updated_at, key_id, version
from tickets.jira_auth_tokens
where (key_id is distinct from :key_id or version is null) and jira_user_id > :after
order by jira_user_id
limit :batch;

-- name: reencrypt_tokens :execrows
-- The same tokens, encrypted again under key :key_id with new versions. A row
-- written in between (its version is no longer the one read) is left as it is.
update tickets.jira_auth_tokens t
set access_token = new.access_token, refresh_token = new.refresh_token, key_id = :key_id,
    version = new.version
from unnest(:jira_user_ids::text[], :old_versions::bigint[], :access_tokens::bytea[],
            :refresh_tokens::bytea[], :versions::bigint[])
     as new (jira_user_id, old_version, access_token, refresh_token, version)
where t.jira_user_id = new.jira_user_id and t.version is not distinct from new.old_version;
