-- depends: chat_0001_schema common_0002_tenancy
-- Tenancy (SPEC "Tenancy"): each user's rows are a tenant's, kept apart by the database.
-- * Every table carries its user: conversations.user_id already does; messages gets
--   user_id, its conversation's: derived by a trigger on insert (so an insert naming
--   only the SPEC's columns still works), filled in for older messages by
--   chat_0003_tenancy_indexes, which also makes the messages' foreign key include it,
--   so no message can sit in another user's conversation.
-- * Row-level security, enabled and forced on every table: the role tether_service
--   sees and writes only the rows of the users named by `tether.tenants` (none when
--   unset); the migrating role stays unscoped (its own policy).
-- * tether_service gets the DML the repositories run, nothing more.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

alter table chat.messages add column user_id uuid;

-- NOT NULL once chat_0003_tenancy_indexes has filled in the messages written before:
-- checked NOT VALID here, validated there outside this transaction.
alter table chat.messages
    add constraint messages_user_id_not_null check (user_id is not null) not valid;

-- A message's user is its conversation's. Runs as the inserting role, so under a
-- tenant scope a conversation of another user is not found: the insert is refused as
-- if the conversation did not exist (the words of messages_conversation_id_fkey; a
-- NULL conversation_id is the NOT NULL's to report). An insert naming user_id skips it.
create function chat.messages_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select c.user_id into new.user_id
    from chat.conversations as c where c.id = new.conversation_id;
    if new.user_id is null and new.conversation_id is not null then
        raise exception 'the conversation % of a message does not exist', new.conversation_id
            using errcode = 'foreign_key_violation',
                  schema = 'chat',
                  table = 'messages',
                  constraint = 'messages_conversation_id_fkey';
    end if;
    return new;
end
$$;

create trigger messages_tenant
    before insert on chat.messages
    for each row when (new.user_id is null)
    execute function chat.messages_tenant();

-- Row-level security. The tenants are read, and cast, once per statement (an InitPlan:
-- `(select ...)`, the cast inside it; the outer cast is a no-op that makes it an array,
-- not a subquery, to ANY). COALESCE(..., false) is the same test to the executor; to
-- the planner it is a filter of unknown selectivity, where a bare `= ANY` over an
-- array of unknown length is an index condition it expects to keep a tenth of the
-- rows: stacked on the query's own tenant predicate, that estimate made plans walk
-- the wrong index for a tenant with many rows (list_generations of a user with 800
-- plans: ~10x slower scoped; with COALESCE, the owner's plan).
alter table chat.users enable row level security;
alter table chat.users force row level security;
create policy tenant_scope on chat.users to tether_service
    using (coalesce(id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
-- FORCE applies policies to the owner too; the migrating role stays unscoped.
create policy owner_unscoped on chat.users to current_user using (true) with check (true);

alter table chat.conversations enable row level security;
alter table chat.conversations force row level security;
create policy tenant_scope on chat.conversations to tether_service
    using (coalesce(user_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(user_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on chat.conversations to current_user using (true) with check (true);

alter table chat.messages enable row level security;
alter table chat.messages force row level security;
create policy tenant_scope on chat.messages to tether_service
    using (coalesce(user_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(user_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on chat.messages to current_user using (true) with check (true);

-- What the repositories run (sql/chat), and the counters' triggers, which run as the
-- writing role: they update (and lock) the conversation of the messages written.
grant usage on schema chat to tether_service;
grant select, insert, update, delete on chat.users to tether_service;
grant select, insert, update, delete on chat.conversations to tether_service;
grant select, insert, update, delete on chat.messages to tether_service;
