-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- runs outside a transaction, as its migration does (transactional: false there)
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object -- a one-column key takes back the name of the composite key it replaces
-- squawk-ignore-file ban-drop-constraint, ban-drop-not-null -- back to the previous schema: each composite key is replaced first by the one-column key it replaced; user_id goes back to its NOT VALID check
-- Back to planner_0003_tenancy's schema: the one-column foreign keys and their indexes,
-- the subject-owner trigger, user_id nullable under its NOT VALID check (the values
-- filled in stay).
set lock_timeout = '5s';
set statement_timeout = '30min';

-- A task's subject must belong to the user whose plan holds the task. Checked
-- after each row (like a foreign key, so a generation inserted in one statement
-- sees its own new plans); ownership never changes, so no lock is needed.
create or replace function planner.check_ai_task_subject_owner() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    plan_owner bigint;
    subject_owner bigint;
begin
    select p.user_id, s.student_id into plan_owner, subject_owner
    from planner.plans p, planner.subjects s
    where p.id = new.plan_id and s.id = new.subject_id;
    -- A missing plan or subject is the foreign keys' to report.
    if found and plan_owner <> subject_owner then
        raise exception 'the subject of a task must belong to the user of its plan'
            using errcode = 'check_violation',
                  schema = 'planner',
                  table = 'ai_tasks',
                  constraint = 'ai_tasks_subject_owner_check';
    end if;
    return null;
end
$$;

create constraint trigger ai_tasks_subject_owner_check
    after insert or update of plan_id, subject_id on planner.ai_tasks
    for each row execute function planner.check_ai_task_subject_owner();

drop index concurrently if exists planner.ai_tasks_plan_id_idx;
create index concurrently if not exists ai_tasks_plan_id_idx on planner.ai_tasks (plan_id);
drop index concurrently if exists planner.ai_tasks_subject_id_idx;
create index concurrently if not exists ai_tasks_subject_id_idx on planner.ai_tasks (subject_id);

alter table planner.ai_tasks
    add constraint ai_tasks_subject_id_only_fkey foreign key (subject_id)
    references planner.subjects (id) on delete cascade not valid;
alter table planner.ai_tasks validate constraint ai_tasks_subject_id_only_fkey;
alter table planner.ai_tasks drop constraint ai_tasks_subject_id_fkey;
alter table planner.ai_tasks
    rename constraint ai_tasks_subject_id_only_fkey to ai_tasks_subject_id_fkey;

alter table planner.ai_tasks
    add constraint ai_tasks_plan_id_only_fkey foreign key (plan_id)
    references planner.plans (id) on delete cascade not valid;
alter table planner.ai_tasks validate constraint ai_tasks_plan_id_only_fkey;
alter table planner.ai_tasks drop constraint ai_tasks_plan_id_fkey;
alter table planner.ai_tasks
    rename constraint ai_tasks_plan_id_only_fkey to ai_tasks_plan_id_fkey;

drop index concurrently if exists planner.ai_tasks_subject_id_user_id_idx;
drop index concurrently if exists planner.ai_tasks_plan_id_user_id_idx;
alter table planner.subjects drop constraint subjects_id_student_id_key;
alter table planner.plans drop constraint plans_id_user_id_key;

alter table planner.ai_tasks alter column user_id drop not null;
alter table planner.ai_tasks
    add constraint ai_tasks_user_id_not_null check (user_id is not null) not valid;

reset statement_timeout;
reset lock_timeout;
