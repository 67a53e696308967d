-- depends: tickets_0002_tenancy
-- Jira tokens are bound to their whole row (issue 21). Each write of a token row
-- carries a new version, drawn from a sequence before the tokens are encrypted, and
-- the encryption's associated data binds the version with expires_at and scopes: a
-- writer of the table who extends expires_at, adds a scope or puts back an older
-- ciphertext (with its older version) gets a row that does not decrypt. A version
-- must also grow past every version the Jira user's rows ever had, deletes included,
-- and have been drawn from the sequence:
-- the high-water marks live in a table of their own that only this trigger writes
-- (security definer), so a writer of jira_auth_tokens cannot lower them. Rows written
-- before this migration keep version NULL (and their old binding) until tether
-- rewrites them (upsert, or rotate()); NULL may be written only by an insert for a
-- Jira user who never had a versioned row (as the SPEC's plain insert does).
set local lock_timeout = '5s';
set local statement_timeout = '1min';

create sequence tickets.jira_auth_token_versions as bigint;

alter table tickets.jira_auth_tokens add column version bigint;

create table tickets.jira_auth_token_high_water (
    jira_user_id text primary key,
    version      bigint not null
);

create function tickets.keep_token_versions_growing() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if new.version is null then
        -- A row with no version (its tokens without a key id are unreadable anyway) may
        -- be inserted for a user who never had one: the SPEC's own insert works.
        if tg_op = 'INSERT' and not exists (
            select from tickets.jira_auth_token_high_water where jira_user_id = new.jira_user_id
        ) then
            return new;
        end if;
    -- A row's version grows past its own, and past every version the user's rows
    -- ever had (an upsert's BEFORE INSERT has already raised the mark to the version
    -- its DO UPDATE then writes, hence the equality allowed there), and was drawn
    -- from the sequence: one set far ahead would refuse every later write.
    elsif (tg_op = 'INSERT' or old.version is null or new.version > old.version)
        and new.version <= (select last_value from tickets.jira_auth_token_versions) then
        insert into tickets.jira_auth_token_high_water as seen (jira_user_id, version)
        values (new.jira_user_id, new.version)
        on conflict (jira_user_id) do update set version = excluded.version
        where seen.version < excluded.version
            or (tg_op = 'UPDATE' and seen.version = excluded.version);
        if found then
            return new;
        end if;
    end if;
    raise exception 'a Jira token row''s version must grow with every write'
        using errcode = 'check_violation', schema = 'tickets',
              table = 'jira_auth_tokens', constraint = 'jira_auth_tokens_version_grows';
end
$$;

create trigger jira_auth_tokens_version_grows
    before insert or update on tickets.jira_auth_tokens
    for each row execute function tickets.keep_token_versions_growing();

-- tether_service (tenancy) draws versions; it cannot touch the high-water marks.
grant usage on sequence tickets.jira_auth_token_versions to tether_service;
