-- depends: planner_0002_history_indexes common_0002_tenancy
-- Tenancy (SPEC "Tenancy"): each user's rows are a tenant's, kept apart by the database.
-- * Every table carries its user: subjects.student_id, plans.user_id and
--   feedback.user_id already do; ai_tasks gets user_id, its plan's: derived by a
--   trigger on insert (so an insert naming only the SPEC's columns still works),
--   filled in for older tasks by planner_0004_tenancy_indexes, which also makes the
--   foreign keys between these tables include it, so no row can point at another
--   user's row.
-- * Row-level security, enabled and forced on every table: the role tether_service
--   sees and writes only the rows of the users named by `tether.tenants` (none when
--   unset); the migrating role stays unscoped (its own policy).
-- * tether_service gets the DML the repositories run, nothing more.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

alter table planner.ai_tasks add column user_id bigint;

-- NOT NULL once planner_0004_tenancy_indexes has filled in the tasks written before:
-- checked NOT VALID here, validated there outside this transaction.
alter table planner.ai_tasks
    add constraint ai_tasks_user_id_not_null check (user_id is not null) not valid;

-- A task's user is its plan's. Runs as the inserting role, so under a tenant scope a
-- plan of another user is not found: the insert is refused as if the plan did not
-- exist (the words of ai_tasks_plan_id_fkey; a NULL plan_id is the NOT NULL's to
-- report). An insert that names user_id skips it.
create function planner.ai_tasks_tenant() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    select p.user_id into new.user_id from planner.plans as p where p.id = new.plan_id;
    if new.user_id is null and new.plan_id is not null then
        raise exception 'the plan % of a task does not exist', new.plan_id
            using errcode = 'foreign_key_violation',
                  schema = 'planner',
                  table = 'ai_tasks',
                  constraint = 'ai_tasks_plan_id_fkey';
    end if;
    return new;
end
$$;

create trigger ai_tasks_tenant
    before insert on planner.ai_tasks
    for each row when (new.user_id is null)
    execute function planner.ai_tasks_tenant();

-- Row-level security. The tenants are read, and cast, once per statement (an InitPlan:
-- `(select ...)`, the cast inside it; the outer cast is a no-op that makes it an array,
-- not a subquery, to ANY). COALESCE(..., false) is the same test to the executor; to
-- the planner it is a filter of unknown selectivity, where a bare `= ANY` over an
-- array of unknown length is an index condition it expects to keep a tenth of the
-- rows: stacked on the query's own tenant predicate, that estimate made plans walk
-- the wrong index for a tenant with many rows (list_generations of a user with 800
-- plans: ~10x slower scoped; with COALESCE, the owner's plan).
alter table planner.users enable row level security;
alter table planner.users force row level security;
create policy tenant_scope on planner.users to tether_service
    using (coalesce(id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
-- FORCE applies policies to the owner too; the migrating role stays unscoped.
create policy owner_unscoped on planner.users to current_user using (true) with check (true);

alter table planner.subjects enable row level security;
alter table planner.subjects force row level security;
create policy tenant_scope on planner.subjects to tether_service
    using (coalesce(student_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(student_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on planner.subjects to current_user using (true) with check (true);

alter table planner.plans enable row level security;
alter table planner.plans force row level security;
create policy tenant_scope on planner.plans to tether_service
    using (coalesce(user_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(user_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on planner.plans to current_user using (true) with check (true);

alter table planner.ai_tasks enable row level security;
alter table planner.ai_tasks force row level security;
create policy tenant_scope on planner.ai_tasks to tether_service
    using (coalesce(user_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(user_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on planner.ai_tasks to current_user using (true) with check (true);

alter table planner.feedback enable row level security;
alter table planner.feedback force row level security;
create policy tenant_scope on planner.feedback to tether_service
    using (coalesce(user_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false))
    with check (coalesce(user_id = any ((select public.tether_tenants()::bigint[])::bigint[]), false));
create policy owner_unscoped on planner.feedback to current_user using (true) with check (true);

-- What the repositories run (sql/planner); identity columns need no sequence grant.
-- Tasks go with their plan (a cascade, which runs as the owner).
grant usage on schema planner to tether_service;
grant select, insert, delete on planner.users to tether_service;
grant select, insert, delete on planner.subjects to tether_service;
grant select, insert, delete on planner.plans to tether_service;
grant select, insert on planner.ai_tasks to tether_service;
grant select, insert on planner.feedback to tether_service;
