-- depends: common_0001_extensions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- every table here is new: no session can hold a lock on it yet
-- The healthcare chatbot (seed 002): users who sign in with a password or OAuth
-- and hold hashed refresh tokens, their conversations with counters the database
-- keeps exact, and the messages of each conversation, streamed or not.

create schema chat;

-- Whether a user's refresh_tokens is what tether writes there: an array of at most
-- 20 entries, each exactly {hash, issued_at, expires_at}, the hash 64 hex digits
-- (HMAC-SHA256 of the raw token, which never reaches the database), the times
-- ISO 8601 with their offset, expiring after they were issued. A raw token (43
-- characters of base64url) can never pass for a hash.
create function chat.refresh_tokens_are_valid(tokens jsonb) returns boolean
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

-- The unexpired entries of a refresh_tokens array, but the one with hash `dropped`
-- (none when NULL), at most the `newest` most recently issued, in issue order.
-- Every statement that rewrites a user's tokens goes through it, so expired
-- entries never pile up.
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

create table chat.users (
    id              uuid primary key default gen_random_uuid(),
    email           text not null
                    constraint users_email_check
                    check (length(email) <= 256 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    -- The hash the service computed (bcrypt, argon2, scrypt...); NULL for OAuth users.
    hashed_password text
                    constraint users_hashed_password_check
                    check (length(hashed_password) between 20 and 512 and hashed_password ~ '^[!-~]+$'),
    name            text constraint users_name_check check (length(name) <= 256),
    role            text not null default 'user'
                    constraint users_role_check check (role in ('user', 'admin')),
    refresh_tokens  jsonb not null default '[]'::jsonb
                    constraint users_refresh_tokens_check
                    check (chat.refresh_tokens_are_valid(refresh_tokens)),
    created_at      timestamptz not null default now()
);
-- E-mail addresses are unique whatever their case.
create unique index users_email_key on chat.users (lower(email));
-- Finds the user holding a refresh token by its hash (refresh_tokens @> '[{"hash": ...}]').
create index users_refresh_tokens_idx on chat.users using gin (refresh_tokens jsonb_path_ops);

create table chat.conversations (
    id              uuid primary key default gen_random_uuid(),
    user_id         uuid not null
                    constraint conversations_user_id_fkey
                    references chat.users (id) on delete cascade,
    title           text constraint conversations_title_check check (length(title) <= 512),
    -- Kept by the triggers on chat.messages below; no one else may write them.
    -- squawk-ignore prefer-bigint-over-int -- the seed's Integer: a conversation of 2 billion messages is no chat
    messages_count  integer not null default 0
                    constraint conversations_messages_count_check check (messages_count >= 0),
    created_at      timestamptz not null default now(),
    last_message_at timestamptz,
    constraint conversations_last_message_at_check
        check ((messages_count = 0) = (last_message_at is null))
);
-- A user's conversations newest first, by keyset; leading user_id also covers the FK.
create index conversations_user_id_created_at_id_idx
    on chat.conversations (user_id, created_at, id);

create table chat.messages (
    id              uuid primary key default gen_random_uuid(),
    conversation_id uuid not null
                    constraint messages_conversation_id_fkey
                    references chat.conversations (id) on delete cascade,
    sender          text not null
                    constraint messages_sender_check check (sender in ('user', 'assistant')),
    content         text not null,
    status          text not null default 'sent'
                    constraint messages_status_check
                    check (status in ('sending', 'streaming', 'sent', 'failed')),
    metadata        jsonb not null default '{}'::jsonb
                    constraint messages_metadata_check check (jsonb_typeof(metadata) = 'object'),
    created_at      timestamptz not null default now()
);
-- The messages of a conversation in order, by keyset (id breaks ties of created_at);
-- the newest one for last_message_at; leading conversation_id covers the FK.
create index messages_conversation_id_created_at_id_idx
    on chat.messages (conversation_id, created_at, id);

-- messages_count and last_message_at, kept exact by the database.
--
-- Inserts add to the count and move last_message_at forward with greatest(), so the
-- row lock of the UPDATE is all that concurrent inserts need. One UPDATE per
-- conversation per statement (transition tables): a COPY of 100,000 messages
-- updates its conversation once.
create function chat.count_inserted_messages() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    update chat.conversations as c
    set messages_count = c.messages_count + added.n,
        last_message_at = greatest(c.last_message_at, added.newest)
    from (
        select conversation_id, count(*) as n, max(created_at) as newest
        from inserted_messages
        group by conversation_id
    ) as added
    where c.id = added.conversation_id;
    return null;
end
$$;

create trigger messages_count_inserted
    after insert on chat.messages
    referencing new table as inserted_messages
    for each statement execute function chat.count_inserted_messages();

-- Deletes subtract from the count; when the newest message went, last_message_at
-- falls back to the newest one left (NULL when none is). That read must see an
-- insert that committed while this delete waited: so the conversation's row is
-- locked first (in id order, the same for every deleter), and the newest message
-- is read in the next statement, whose snapshot is taken after the lock was had.
-- Under READ COMMITTED a subquery of the locking statement itself would keep the
-- older snapshot and miss that message. Conversations deleted by a cascade are gone
-- by the time this runs, and are skipped.
create function chat.count_deleted_messages() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    gone record;
begin
    for gone in
        select c.id, c.last_message_at, removed.n, removed.newest
        from (
            select conversation_id, count(*) as n, max(created_at) as newest
            from deleted_messages
            group by conversation_id
        ) as removed
        join chat.conversations as c on c.id = removed.conversation_id
        order by c.id
        for no key update of c
    loop
        if gone.newest < gone.last_message_at then
            update chat.conversations
            set messages_count = messages_count - gone.n
            where id = gone.id;
        else
            update chat.conversations
            set messages_count = messages_count - gone.n,
                last_message_at = (
                    select max(m.created_at) from chat.messages as m
                    where m.conversation_id = gone.id
                )
            where id = gone.id;
        end if;
    end loop;
    return null;
end
$$;

create trigger messages_count_deleted
    after delete on chat.messages
    referencing old table as deleted_messages
    for each statement execute function chat.count_deleted_messages();

-- TRUNCATE skips row triggers: every conversation is then empty.
create function chat.count_truncated_messages() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    update chat.conversations
    set messages_count = 0, last_message_at = null
    where messages_count <> 0 or last_message_at is not null;
    return null;
end
$$;

create trigger messages_count_truncated
    after truncate on chat.messages
    for each statement execute function chat.count_truncated_messages();

-- The counters are the triggers' alone: a conversation starts at zero, and a write
-- of either counter from outside a trigger (a service counting for itself, as an ORM
-- would) is refused rather than let the counters drift.
create function chat.refuse_counter_write() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception 'messages_count and last_message_at of chat.conversations are kept by the database'
        using errcode = 'check_violation',
              schema = 'chat',
              table = 'conversations',
              constraint = 'conversations_counters_kept';
end
$$;

create trigger conversations_counters_kept_on_insert
    before insert on chat.conversations
    for each row when (new.messages_count <> 0 or new.last_message_at is not null)
    execute function chat.refuse_counter_write();

create trigger conversations_counters_kept_on_update
    before update of messages_count, last_message_at on chat.conversations
    for each row
    when (pg_trigger_depth() = 0
          and (old.messages_count, old.last_message_at)
              is distinct from (new.messages_count, new.last_message_at))
    execute function chat.refuse_counter_write();

-- A message stays in its conversation at its time: moving it would leave both
-- conversations' counters wrong.
create function chat.refuse_message_move() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception 'a message cannot move to another conversation or time'
        using errcode = 'check_violation',
              schema = 'chat',
              table = 'messages',
              constraint = 'messages_placement_fixed';
end
$$;

create trigger messages_placement_fixed
    before update of conversation_id, created_at on chat.messages
    for each row
    when (old.conversation_id <> new.conversation_id or old.created_at <> new.created_at)
    execute function chat.refuse_message_move();

-- A status only moves forward: sending -> streaming -> sent or failed (either may be
-- skipped to); sent and failed are final.
create function chat.check_message_status() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if old.status in ('sent', 'failed')
       or (old.status = 'streaming' and new.status = 'sending') then
        raise exception 'a message''s status cannot go from % to %', old.status, new.status
            using errcode = 'check_violation',
                  schema = 'chat',
                  table = 'messages',
                  constraint = 'messages_status_transition_check';
    end if;
    return new;
end
$$;

create trigger messages_status_transition_check
    before update of status on chat.messages
    for each row when (old.status <> new.status)
    execute function chat.check_message_status();
