-- depends: tutor_0001_schema common_0002_tenancy
-- Tenancy (SPEC "Tenancy"): a course is the tutor's tenant. Every table below it
-- carries course_id, derived by the database from the row's parent, and every
-- reference between them includes it, so no row points into another course. Row-level
-- security keeps a `db.tenant(course_id)` transaction to its courses' rows. users stay
-- global (a student takes several courses). A job whose week was deleted has no course:
-- only unscoped workers see it. The indexes, the composite foreign keys and NOT NULL
-- follow in tutor_0003_tenancy_indexes, outside a transaction (CONCURRENTLY, VALIDATE).
set local lock_timeout = '5s';
set local statement_timeout = '30min';

-- 1. The key, backfilled from the parent (parents first); NOT NULL where a row cannot
--    exist without a course (a check NOT VALID here: new rows obey it at once).
alter table tutor.readings add column course_id bigint;
alter table tutor.jobs add column course_id bigint;
alter table tutor.chunks add column course_id bigint;
alter table tutor.summaries add column course_id bigint;
alter table tutor.conversations add column course_id bigint;
alter table tutor.audio_blobs add column course_id bigint;

-- The backfill is no edit: updated_at keeps its time (its triggers are off meanwhile,
-- inside this transaction).
alter table tutor.jobs disable trigger jobs_set_updated_at;
alter table tutor.summaries disable trigger summaries_set_updated_at;
update tutor.readings r set course_id = w.course_id from tutor.weeks w where w.id = r.week_id;
update tutor.jobs j set course_id = w.course_id from tutor.weeks w where w.id = j.week_id;
update tutor.chunks c set course_id = r.course_id from tutor.readings r where r.id = c.reading_id;
update tutor.summaries s set course_id = w.course_id from tutor.weeks w where w.id = s.week_id;
update tutor.conversations c set course_id = w.course_id
from tutor.weeks w where w.id = c.week_id;
update tutor.audio_blobs a set course_id = c.course_id
from tutor.conversations c where c.id = a.conversation_id;
alter table tutor.jobs enable trigger jobs_set_updated_at;
alter table tutor.summaries enable trigger summaries_set_updated_at;

-- Validated, and made NOT NULL, in tutor_0003_tenancy_indexes.
alter table tutor.readings add constraint readings_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.chunks add constraint chunks_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.summaries add constraint summaries_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.conversations add constraint conversations_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.audio_blobs add constraint audio_blobs_course_id_not_null
    check (course_id is not null) not valid;

-- 2. Derived by the database: an insert that leaves course_id out gets its parent's.
--    A parent this transaction cannot see (missing, or another tenant's under row-level
--    security) is the foreign key's error, as if the key had been checked.
create function tutor.readings_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select w.course_id into new.course_id from tutor.weeks w where w.id = new.week_id;
    if new.course_id is null then
        raise exception 'the reading''s week must exist'
            using errcode = 'foreign_key_violation', schema = 'tutor', table = 'readings',
                  constraint = 'readings_week_id_fkey';
    end if;
    return new;
end
$$;
create trigger readings_tenant
    before insert on tutor.readings
    for each row when (new.course_id is null) execute function tutor.readings_tenant();

create function tutor.jobs_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select w.course_id into new.course_id from tutor.weeks w where w.id = new.week_id;
    if new.course_id is null then
        raise exception 'the job''s week must exist'
            using errcode = 'foreign_key_violation', schema = 'tutor', table = 'jobs',
                  constraint = 'jobs_week_id_fkey';
    end if;
    return new;
end
$$;
-- A job without a week has no course.
create trigger jobs_tenant
    before insert on tutor.jobs
    for each row when (new.course_id is null and new.week_id is not null)
    execute function tutor.jobs_tenant();

create function tutor.chunks_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select r.course_id into new.course_id from tutor.readings r where r.id = new.reading_id;
    if new.course_id is null then
        raise exception 'the chunk''s reading must exist'
            using errcode = 'foreign_key_violation', schema = 'tutor', table = 'chunks',
                  constraint = 'chunks_reading_id_fkey';
    end if;
    return new;
end
$$;
create trigger chunks_tenant
    before insert on tutor.chunks
    for each row when (new.course_id is null) execute function tutor.chunks_tenant();

create function tutor.summaries_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select w.course_id into new.course_id from tutor.weeks w where w.id = new.week_id;
    if new.course_id is null then
        raise exception 'the summary''s week must exist'
            using errcode = 'foreign_key_violation', schema = 'tutor', table = 'summaries',
                  constraint = 'summaries_week_id_fkey';
    end if;
    return new;
end
$$;
create trigger summaries_tenant
    before insert on tutor.summaries
    for each row when (new.course_id is null) execute function tutor.summaries_tenant();

create function tutor.conversations_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select w.course_id into new.course_id from tutor.weeks w where w.id = new.week_id;
    if new.course_id is null then
        raise exception 'the conversation''s week must exist'
            using errcode = 'foreign_key_violation', schema = 'tutor', table = 'conversations',
                  constraint = 'conversations_week_id_fkey';
    end if;
    return new;
end
$$;
create trigger conversations_tenant
    before insert on tutor.conversations
    for each row when (new.course_id is null) execute function tutor.conversations_tenant();

create function tutor.audio_blobs_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select c.course_id into new.course_id
    from tutor.conversations c where c.id = new.conversation_id;
    if new.course_id is null then
        raise exception 'the audio''s conversation must exist'
            using errcode = 'foreign_key_violation', schema = 'tutor', table = 'audio_blobs',
                  constraint = 'audio_blobs_conversation_id_fkey';
    end if;
    return new;
end
$$;
create trigger audio_blobs_tenant
    before insert on tutor.audio_blobs
    for each row when (new.course_id is null) execute function tutor.audio_blobs_tenant();

-- 3. Row-level security, forced (the owner too): tether_service sees the courses named
--    in `tether.tenants` (public.tether_tenants()), the migrating role everything.
--    The tenants are read and cast once per statement (an InitPlan); COALESCE(...,
--    false) makes the test a filter to the planner, not an index condition stacked on
--    the query's own key predicate (planner_0003 says why).
alter table tutor.courses enable row level security;
alter table tutor.courses force row level security;
create policy tenant_scope on tutor.courses to tether_service
    using (coalesce(id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.courses to current_user using (true) with check (true);

alter table tutor.weeks enable row level security;
alter table tutor.weeks force row level security;
create policy tenant_scope on tutor.weeks to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.weeks to current_user using (true) with check (true);

alter table tutor.readings enable row level security;
alter table tutor.readings force row level security;
create policy tenant_scope on tutor.readings to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.readings to current_user using (true) with check (true);

alter table tutor.jobs enable row level security;
alter table tutor.jobs force row level security;
create policy tenant_scope on tutor.jobs to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.jobs to current_user using (true) with check (true);

alter table tutor.chunks enable row level security;
alter table tutor.chunks force row level security;
create policy tenant_scope on tutor.chunks to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.chunks to current_user using (true) with check (true);

alter table tutor.summaries enable row level security;
alter table tutor.summaries force row level security;
create policy tenant_scope on tutor.summaries to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.summaries to current_user using (true) with check (true);

alter table tutor.conversations enable row level security;
alter table tutor.conversations force row level security;
create policy tenant_scope on tutor.conversations to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.conversations to current_user
    using (true) with check (true);

alter table tutor.audio_blobs enable row level security;
alter table tutor.audio_blobs force row level security;
create policy tenant_scope on tutor.audio_blobs to tether_service
    using (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(course_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on tutor.audio_blobs to current_user using (true) with check (true);

-- 4. What the repositories run, and nothing more (identity columns need no grant on
--    their sequences). users is global: no row-level security.
grant usage on schema tutor to tether_service;
grant select, insert, update, delete on tutor.users to tether_service;
grant select, insert, update, delete on tutor.courses to tether_service;
grant select, insert, delete on tutor.weeks to tether_service;
grant select, insert, delete on tutor.readings to tether_service;
grant select, insert, update on tutor.jobs to tether_service;
grant select, insert, delete on tutor.chunks to tether_service;
grant select, insert, update, delete on tutor.summaries to tether_service;
grant select, insert, update, delete on tutor.conversations to tether_service;
grant select, insert on tutor.audio_blobs to tether_service;
