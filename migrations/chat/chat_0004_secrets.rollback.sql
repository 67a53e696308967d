-- squawk-ignore-file ban-drop-column, ban-drop-function, ban-drop-constraint -- a rollback removes the columns, checks and functions its migration added
-- Back to chat_0003's schema: the old refresh-token functions (the spent entries go,
-- the live ones lose their family and key id), no OAuth columns, no PHC check. Password
-- hashes cleared by the migration stay cleared.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

alter table chat.users drop constraint users_oauth_identity_check;
alter table chat.users drop column oauth_subject;
alter table chat.users drop column oauth_provider;
alter table chat.users drop column email_verified;
alter table chat.users drop constraint users_hashed_password_phc_check;

drop function chat.rotated_refresh_tokens(jsonb, text[], text, text, interval, interval, interval);
drop function chat.refresh_token_entry(text, text, text, timestamptz, interval, interval);
drop function chat.kept_refresh_tokens(jsonb);

create or replace function chat.refresh_tokens_are_valid(tokens jsonb) returns boolean
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select case
        when jsonb_typeof(tokens) is distinct from 'array' then false
        when jsonb_array_length(tokens) > 20 then false
        else not exists (
            select 1
            from jsonb_array_elements(tokens) as entry (token)
            where not case
                when jsonb_typeof(entry.token) <> 'object'
                  or not entry.token ?& array['hash', 'issued_at', 'expires_at']
                  or entry.token - array['hash', 'issued_at', 'expires_at'] <> '{}'::jsonb
                  or jsonb_typeof(entry.token -> 'hash') <> 'string'
                  or jsonb_typeof(entry.token -> 'issued_at') <> 'string'
                  or jsonb_typeof(entry.token -> 'expires_at') <> 'string'
                then false
                when (entry.token ->> 'hash') !~ '^[0-9a-f]{64}$'
                  or (entry.token ->> 'issued_at') !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d){0,2}$'
                  or (entry.token ->> 'expires_at') !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d){0,2}$'
                then false
                else (entry.token ->> 'expires_at')::timestamptz
                     > (entry.token ->> 'issued_at')::timestamptz
            end
        )
    end
$$;

create function chat.live_refresh_tokens(tokens jsonb, dropped text, newest integer)
returns jsonb
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(jsonb_agg(kept.token order by kept.position), '[]'::jsonb)
    from (
        select entry.token, entry.position
        from jsonb_array_elements(tokens) with ordinality as entry (token, position)
        where (entry.token ->> 'expires_at')::timestamptz > now()
          and (entry.token ->> 'hash') is distinct from dropped
        order by entry.position desc
        limit newest
    ) as kept
$$;

-- The live entries, as {hash, issued_at, expires_at}, the 20 newest: what the old
-- function, back above, accepts.
update chat.users as u
set refresh_tokens = (
    select coalesce(jsonb_agg(kept.token order by kept.position), '[]'::jsonb)
    from (
        select jsonb_build_object('hash', entry.token -> 'hash',
                                  'issued_at', entry.token -> 'issued_at',
                                  'expires_at', entry.token -> 'expires_at') as token,
               entry.position
        from jsonb_array_elements(u.refresh_tokens) with ordinality as entry (token, position)
        where entry.token -> 'spent_at' = 'null'::jsonb
          and (entry.token ->> 'expires_at')::timestamptz > now()
        order by entry.position desc
        limit 20
    ) as kept
)
where u.refresh_tokens <> '[]'::jsonb;

drop function chat.is_token_time(text);
