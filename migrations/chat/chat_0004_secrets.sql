-- depends: chat_0003_tenancy_indexes
-- squawk-ignore-file ban-drop-function -- live_refresh_tokens is replaced by kept_refresh_tokens and the rotation below; nothing else calls it
-- Secrets that hold up against an attacker (issue 21), first half (chat_0005_secrets_checks
-- validates what this one adds NOT VALID, outside a transaction):
-- * Refresh tokens as families: a rotated token stays in refresh_tokens, spent, so that
--   presenting it again is recognised as reuse and revokes its whole family; every entry
--   names the key its hash was made with. Entries of the old shape {hash, issued_at,
--   expires_at} become live heads of families of their own, under key id 'default' (the
--   id of a TETHER_CHAT_TOKEN_KEY without ids).
-- * Password hashes: only a PHC string ($argon2id$..., $scrypt$..., $pbkdf2-sha256$...).
--   A stored value that is not one (a plaintext password, another format) is cleared: the
--   user has no password (as an OAuth user) until a reset sets one, and that user's
--   refresh tokens are revoked (sessions opened with a password that may have leaked).
-- * OAuth identities: a user is linked to an identity by (provider, subject), never by
--   e-mail alone, and email_verified says whether the address was proven.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

-- Whether a text is a time as tether writes it: ISO 8601 with a 'T' and an offset,
-- digits and separators only (no 'infinity', 'now' or 'epoch'). Compared with ltrim and
-- substr rather than a regular expression: every write of a user's row checks up to 60
-- entries, and PostgreSQL's regular expressions were most of that time (8.6 ms for 60
-- entries with them, on a loaded machine).
create function chat.is_token_time(value text) returns boolean
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select length(value) between 20 and 40
       and substr(value, 5, 1) = '-' and substr(value, 8, 1) = '-'
       and substr(value, 11, 1) = 'T'
       and ltrim(value, '0123456789-+:.T') = ''
       and (strpos(substr(value, 20), '+') > 0 or strpos(substr(value, 20), '-') > 0)
$$;

-- Whether a user's refresh_tokens is what tether writes there: an array of at most 60
-- entries (20 live, 40 spent kept for reuse detection), each exactly {hash, key_id,
-- family, family_issued_at, issued_at, expires_at, spent_at, replaced_by, retried}: the
-- hashes 64 lowercase hex digits (HMAC-SHA256 of the raw token, which never reaches the
-- database: a raw token, 43 characters of base64url, can never pass for one), the
-- times ISO 8601 with their offset, expiring after they were issued.
create or replace function chat.refresh_tokens_are_valid(tokens jsonb) returns boolean
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select case
        when jsonb_typeof(tokens) is distinct from 'array' then false
        when jsonb_array_length(tokens) > 60 then false
        when (select count(*) from jsonb_array_elements(tokens) as entry (token)
              where entry.token -> 'spent_at' = 'null'::jsonb) > 20 then false
        else not exists (
            select 1
            from jsonb_array_elements(tokens) as entry (token)
            where not case
                when jsonb_typeof(entry.token) <> 'object'
                  or not entry.token ?& array['hash', 'key_id', 'family', 'family_issued_at',
                                              'issued_at', 'expires_at', 'spent_at',
                                              'replaced_by', 'retried']
                  or entry.token - array['hash', 'key_id', 'family', 'family_issued_at',
                                         'issued_at', 'expires_at', 'spent_at',
                                         'replaced_by', 'retried'] <> '{}'::jsonb
                  or jsonb_typeof(entry.token -> 'hash') <> 'string'
                  or jsonb_typeof(entry.token -> 'key_id') <> 'string'
                  or jsonb_typeof(entry.token -> 'family') <> 'string'
                  or jsonb_typeof(entry.token -> 'family_issued_at') <> 'string'
                  or jsonb_typeof(entry.token -> 'issued_at') <> 'string'
                  or jsonb_typeof(entry.token -> 'expires_at') <> 'string'
                  or jsonb_typeof(entry.token -> 'spent_at') not in ('string', 'null')
                  or jsonb_typeof(entry.token -> 'replaced_by') not in ('string', 'null')
                  or jsonb_typeof(entry.token -> 'retried') <> 'boolean'
                then false
                when length(entry.token ->> 'hash') <> 64
                  or ltrim(entry.token ->> 'hash', '0123456789abcdef') <> ''
                  or length(entry.token ->> 'replaced_by') <> 64
                  or ltrim(entry.token ->> 'replaced_by', '0123456789abcdef') <> ''
                  or length(entry.token ->> 'key_id') = 0
                  or length(entry.token ->> 'key_id') > 64
                  or ltrim(entry.token ->> 'key_id',
                           'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-') <> ''
                  or length(entry.token ->> 'family') <> 36
                  or ltrim(entry.token ->> 'family', '0123456789abcdef-') <> ''
                  or not pg_input_is_valid(entry.token ->> 'family', 'uuid')
                  or not chat.is_token_time(entry.token ->> 'family_issued_at')
                  or not chat.is_token_time(entry.token ->> 'issued_at')
                  or not chat.is_token_time(entry.token ->> 'expires_at')
                  or not chat.is_token_time(entry.token ->> 'spent_at')
                then false
                else (entry.token ->> 'expires_at')::timestamptz
                         > (entry.token ->> 'issued_at')::timestamptz
                     and (entry.token ->> 'issued_at')::timestamptz
                         >= (entry.token ->> 'family_issued_at')::timestamptz
            end
        )
    end
$$;

drop function chat.live_refresh_tokens(jsonb, text, integer);

-- What a write keeps of a refresh_tokens array, in issue order: no expired entry, the
-- 20 newest live ones (a 21st sign-in ends the oldest session) and the 40 newest spent
-- ones (a replay of one of them is recognised as reuse; older ones are just unknown).
-- Every statement that rewrites a user's tokens goes through it.
create function chat.kept_refresh_tokens(tokens jsonb) returns jsonb
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(jsonb_agg(kept.token order by kept.position), '[]'::jsonb)
    from (
        select entry.token, entry.position,
               row_number() over (partition by entry.token -> 'spent_at' = 'null'::jsonb
                                  order by entry.position desc) as newness,
               entry.token -> 'spent_at' = 'null'::jsonb as live
        from jsonb_array_elements(tokens) with ordinality as entry (token, position)
        where (entry.token ->> 'expires_at')::timestamptz > now()
    ) as kept
    where kept.newness <= case when kept.live then 20 else 40 end
$$;

-- A new refresh-token entry: the head of `family` (issued at `family_issued_at`), hashed
-- as `token_hash` under key `key_id`, expiring after `ttl` but never after the family's
-- absolute `lifetime`.
create function chat.refresh_token_entry(
    token_hash text, key_id text, family text, family_issued_at timestamptz,
    ttl interval, lifetime interval
) returns jsonb
language sql
stable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
    select jsonb_build_object(
        'hash', token_hash, 'key_id', key_id, 'family', family,
        'family_issued_at', family_issued_at, 'issued_at', now(),
        'expires_at', least(now() + ttl, family_issued_at + lifetime),
        'spent_at', null, 'replaced_by', null, 'retried', false)
$$;

-- The user's refresh_tokens after `presented` (the hashes of one raw token under each
-- key; the caller's WHERE found it unexpired) was presented, `fresh` being the hash of
-- the token to hand out. Runs inside the UPDATE, on the row version it updates: two
-- rotations of one token queue on the row lock and the second sees the first's result.
-- * live: spent (spent_at, replaced_by = fresh); fresh becomes the family's head.
-- * spent, replaced less than `grace` ago, not retried yet, its successor still live
--   (the client lost the response and retries): the successor is revoked, fresh takes
--   its place, and the entry is marked retried.
-- * any other spent entry (an older one, a second retry, after the window): reuse,
--   every live entry of the family is revoked and no fresh entry is added.
create function chat.rotated_refresh_tokens(
    tokens jsonb, presented text[], fresh text, key_id text,
    ttl interval, lifetime interval, grace interval
) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    old jsonb;
    successor jsonb;
    spent jsonb := jsonb_build_object('spent_at', now());
begin
    select entry.token into old
    from jsonb_array_elements(tokens) as entry (token)
    where entry.token ->> 'hash' = any (presented);
    if old -> 'spent_at' = 'null'::jsonb then
        return chat.kept_refresh_tokens(
            (select jsonb_agg(case when entry.token ->> 'hash' = old ->> 'hash'
                                   then entry.token || spent || jsonb_build_object('replaced_by', fresh)
                                   else entry.token end order by entry.position)
             from jsonb_array_elements(tokens) with ordinality as entry (token, position))
            || chat.refresh_token_entry(fresh, key_id, old ->> 'family',
                                        (old ->> 'family_issued_at')::timestamptz, ttl, lifetime));
    end if;
    select entry.token into successor
    from jsonb_array_elements(tokens) as entry (token)
    where entry.token ->> 'hash' = old ->> 'replaced_by' and entry.token -> 'spent_at' = 'null'::jsonb;
    if successor is not null and not (old -> 'retried')::boolean
       and now() - (old ->> 'spent_at')::timestamptz < grace then
        return chat.kept_refresh_tokens(
            (select jsonb_agg(case entry.token ->> 'hash'
                                  when old ->> 'hash' then entry.token
                                      || jsonb_build_object('replaced_by', fresh, 'retried', true)
                                  when successor ->> 'hash' then entry.token || spent
                                  else entry.token end order by entry.position)
             from jsonb_array_elements(tokens) with ordinality as entry (token, position))
            || chat.refresh_token_entry(fresh, key_id, old ->> 'family',
                                        (old ->> 'family_issued_at')::timestamptz, ttl, lifetime));
    end if;
    return chat.kept_refresh_tokens(
        (select jsonb_agg(case when entry.token ->> 'family' = old ->> 'family'
                                    and entry.token -> 'spent_at' = 'null'::jsonb
                               then entry.token || spent
                               else entry.token end order by entry.position)
         from jsonb_array_elements(tokens) with ordinality as entry (token, position)));
end
$$;

-- Entries of the old shape become live heads of one-token families under key 'default'.
update chat.users as u
set refresh_tokens = (
    select coalesce(jsonb_agg(entry.token || jsonb_build_object(
               'key_id', 'default', 'family', gen_random_uuid(),
               'family_issued_at', entry.token -> 'issued_at',
               'spent_at', null, 'replaced_by', null, 'retried', false)
           order by entry.position), '[]'::jsonb)
    from jsonb_array_elements(u.refresh_tokens) with ordinality as entry (token, position)
    where (entry.token ->> 'expires_at')::timestamptz > now()
)
where u.refresh_tokens <> '[]'::jsonb;

-- A PHC string: $id[$v=version][$param=value,...]$salt$hash, the id one of the password
-- hashes a service should use today, the salt and hash in base64. Replaces
-- users_hashed_password_check (printable ASCII, 20 to 512 characters), which a 20
-- character plaintext passed, in chat_0005_secrets_checks.
alter table chat.users
    add constraint users_hashed_password_phc_check check (
        length(hashed_password) <= 512
        and hashed_password ~ '^\$(argon2id|argon2i|argon2d|scrypt|pbkdf2-sha256|pbkdf2-sha512)(\$v=[0-9]{1,4})?(\$[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64}(,[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64})*)?\$[A-Za-z0-9/+.-]{8,}\$[A-Za-z0-9/+]{16,}$'
    ) not valid;

-- Stored values that are not PHC hashes are cleared, with the user's sessions.
update chat.users
set hashed_password = null, refresh_tokens = '[]'::jsonb
where hashed_password is not null
  and not (length(hashed_password) <= 512
           and hashed_password ~ '^\$(argon2id|argon2i|argon2d|scrypt|pbkdf2-sha256|pbkdf2-sha512)(\$v=[0-9]{1,4})?(\$[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64}(,[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64})*)?\$[A-Za-z0-9/+.-]{8,}\$[A-Za-z0-9/+]{16,}$');

-- OAuth: the provider's name and its subject (the user's id there), both or neither;
-- unique together (chat_0005_secrets_checks). email_verified: the address was proven
-- (the service's link, or a provider that says so).
alter table chat.users add column email_verified boolean not null default false;
alter table chat.users add column oauth_provider text;
alter table chat.users add column oauth_subject text;
alter table chat.users
    add constraint users_oauth_identity_check check (
        (oauth_provider is null) = (oauth_subject is null)
        and oauth_provider ~ '^[a-z0-9][a-z0-9._-]{0,63}$'
        and length(oauth_subject) between 1 and 255
    ) not valid;
