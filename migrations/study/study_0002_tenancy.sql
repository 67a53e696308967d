-- depends: study_0001_schema common_0002_tenancy
-- Tenancy (SPEC "Tenancy"): a profile is the study domain's tenant, and a profile's
-- sessions stay together. Every table below profiles carries profile_id (sessions
-- have it already), derived by the database from the row's parent, and every
-- reference between them includes it (study_0003_tenancy_indexes), so no row points
-- into another profile. Row-level security keeps a `db.tenant(profile_id)`
-- transaction to its profiles' rows; signing in by e-mail runs unscoped.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

-- 1. The key, backfilled from the parent (parents first); NOT NULL (a check NOT VALID
--    here: new rows obey it at once; validated and set in study_0003_tenancy_indexes).
alter table study.documents add column profile_id uuid;
alter table study.topics add column profile_id uuid;
alter table study.chats add column profile_id uuid;
alter table study.messages add column profile_id uuid;
alter table study.document_chunks add column profile_id uuid;

-- The backfill is no edit: updated_at keeps its time, and a chunk whose topics do not
-- change needs no check (those triggers are off meanwhile, inside this transaction).
alter table study.topics disable trigger topics_touch_updated_at;
alter table study.chats disable trigger chats_touch_updated_at;
alter table study.document_chunks disable trigger document_chunks_related_topics_fkey;
update study.documents x set profile_id = p.profile_id from study.study_sessions p where p.id = x.session_id;
update study.topics x set profile_id = p.profile_id from study.study_sessions p where p.id = x.session_id;
update study.chats x set profile_id = p.profile_id from study.study_sessions p where p.id = x.session_id;
update study.messages x set profile_id = p.profile_id from study.chats p where p.id = x.chat_id;
update study.document_chunks x set profile_id = p.profile_id from study.study_sessions p where p.id = x.session_id;
alter table study.topics enable trigger topics_touch_updated_at;
alter table study.chats enable trigger chats_touch_updated_at;
alter table study.document_chunks enable trigger document_chunks_related_topics_fkey;

alter table study.documents add constraint documents_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.topics add constraint topics_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.chats add constraint chats_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.messages add constraint messages_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.document_chunks add constraint document_chunks_profile_id_not_null
    check (profile_id is not null) not valid;

-- 2. Derived by the database: an insert that leaves profile_id out gets its parent's.
--    A parent this transaction cannot see (missing, or another profile's under
--    row-level security) is the foreign key's error, as if the key had been checked.
create function study.documents_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select p.profile_id into new.profile_id from study.study_sessions p where p.id = new.session_id;
    if new.profile_id is null then
        raise exception 'the document''s session must exist'
            using errcode = 'foreign_key_violation', schema = 'study', table = 'documents',
                  constraint = 'documents_session_id_fkey';
    end if;
    return new;
end
$$;
create trigger documents_tenant
    before insert on study.documents
    for each row when (new.profile_id is null) execute function study.documents_tenant();

create function study.topics_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select p.profile_id into new.profile_id from study.study_sessions p where p.id = new.session_id;
    if new.profile_id is null then
        raise exception 'the topic''s session must exist'
            using errcode = 'foreign_key_violation', schema = 'study', table = 'topics',
                  constraint = 'topics_session_id_fkey';
    end if;
    return new;
end
$$;
create trigger topics_tenant
    before insert on study.topics
    for each row when (new.profile_id is null) execute function study.topics_tenant();

create function study.chats_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select p.profile_id into new.profile_id from study.study_sessions p where p.id = new.session_id;
    if new.profile_id is null then
        raise exception 'the chat''s session must exist'
            using errcode = 'foreign_key_violation', schema = 'study', table = 'chats',
                  constraint = 'chats_session_id_fkey';
    end if;
    return new;
end
$$;
create trigger chats_tenant
    before insert on study.chats
    for each row when (new.profile_id is null) execute function study.chats_tenant();

create function study.messages_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select p.profile_id into new.profile_id from study.chats p where p.id = new.chat_id;
    if new.profile_id is null then
        raise exception 'the message''s chat must exist'
            using errcode = 'foreign_key_violation', schema = 'study', table = 'messages',
                  constraint = 'messages_chat_id_fkey';
    end if;
    return new;
end
$$;
create trigger messages_tenant
    before insert on study.messages
    for each row when (new.profile_id is null) execute function study.messages_tenant();

create function study.document_chunks_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select p.profile_id into new.profile_id from study.study_sessions p where p.id = new.session_id;
    if new.profile_id is null then
        raise exception 'the chunk''s session must exist'
            using errcode = 'foreign_key_violation', schema = 'study', table = 'document_chunks',
                  constraint = 'document_chunks_session_id_fkey';
    end if;
    return new;
end
$$;
create trigger document_chunks_tenant
    before insert on study.document_chunks
    for each row when (new.profile_id is null) execute function study.document_chunks_tenant();

-- 3. Row-level security, forced (the owner too): tether_service sees the profiles named
--    in `tether.tenants` (public.tether_tenants()), the migrating role everything.
--    The tenants are read and cast once per statement (an InitPlan); COALESCE(...,
--    false) makes the test a filter to the planner, not an index condition stacked on
--    the query's own key predicate (planner_0003 says why). The rules kept by
--    triggers (a chunk's related topics, a deleted topic leaving the chunks, the status
--    moves) run as the writer: scoped, they see that profile's rows, which are all the
--    rows they need.
alter table study.profiles enable row level security;
alter table study.profiles force row level security;
create policy tenant_scope on study.profiles to tether_service
    using (coalesce(id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.profiles to current_user using (true) with check (true);

alter table study.study_sessions enable row level security;
alter table study.study_sessions force row level security;
create policy tenant_scope on study.study_sessions to tether_service
    using (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.study_sessions to current_user using (true) with check (true);

alter table study.documents enable row level security;
alter table study.documents force row level security;
create policy tenant_scope on study.documents to tether_service
    using (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.documents to current_user using (true) with check (true);

alter table study.topics enable row level security;
alter table study.topics force row level security;
create policy tenant_scope on study.topics to tether_service
    using (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.topics to current_user using (true) with check (true);

alter table study.chats enable row level security;
alter table study.chats force row level security;
create policy tenant_scope on study.chats to tether_service
    using (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.chats to current_user using (true) with check (true);

alter table study.messages enable row level security;
alter table study.messages force row level security;
create policy tenant_scope on study.messages to tether_service
    using (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.messages to current_user using (true) with check (true);

alter table study.document_chunks enable row level security;
alter table study.document_chunks force row level security;
create policy tenant_scope on study.document_chunks to tether_service
    using (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(profile_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on study.document_chunks to current_user using (true) with check (true);

-- 4. What the repositories run, and nothing more (a chunk's topics are locked FOR KEY
--    SHARE, which needs UPDATE on topics; messages are written once).
grant usage on schema study to tether_service;
grant select, insert, delete on study.profiles to tether_service;
grant select, insert, update, delete on study.study_sessions to tether_service;
grant select, insert, update, delete on study.documents to tether_service;
grant select, insert, update, delete on study.topics to tether_service;
grant select, insert, update on study.chats to tether_service;
grant select, insert on study.messages to tether_service;
grant select, insert, update, delete on study.document_chunks to tether_service;
