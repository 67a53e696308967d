-- depends: planner_0003_tenancy
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- yoyo runs this file outside a transaction (transactional: false above), as CONCURRENTLY needs
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object -- a composite key takes the name of the key it replaced, the name the rules and the clients know
-- squawk-ignore-file ban-drop-constraint -- each constraint dropped here is replaced first by a stronger one: the check by NOT NULL, a foreign key by its composite twin
-- squawk-ignore-file ban-drop-function -- the subject-owner trigger's rule is the composite foreign keys' now
-- Tenancy, second half (planner_0003_tenancy did the first): every statement commits on
-- its own, so no lock is held longer than one step.
-- * The tasks written before get their user_id (their plan's), then NOT NULL, which
--   the check validated first lets PostgreSQL set without a scan.
-- * References never cross users: a task's plan and subject must be its own user's.
--   The foreign keys become composite, (plan_id, user_id) -> plans (id, user_id) and
--   (subject_id, user_id) -> subjects (id, student_id), added NOT VALID, validated,
--   then given the old key's name. Their parents' unique (id, user) and the indexes
--   that cover them are built CONCURRENTLY (an INVALID leftover of a failed build is
--   dropped first); the one-column task indexes they replace go.
-- * Two composite keys on one user_id say what the trigger ai_tasks_subject_owner_check
--   said (a task's subject belongs to the user of its plan): the trigger goes.
set lock_timeout = '5s';
set statement_timeout = '30min';

update planner.ai_tasks as t
set user_id = p.user_id
from planner.plans as p
where p.id = t.plan_id and t.user_id is null;

alter table planner.ai_tasks validate constraint ai_tasks_user_id_not_null;
alter table planner.ai_tasks alter column user_id set not null;
alter table planner.ai_tasks drop constraint ai_tasks_user_id_not_null;

drop index concurrently if exists planner.plans_id_user_id_key;
create unique index concurrently if not exists plans_id_user_id_key
    on planner.plans (id, user_id);
alter table planner.plans
    add constraint plans_id_user_id_key unique using index plans_id_user_id_key;

drop index concurrently if exists planner.subjects_id_student_id_key;
create unique index concurrently if not exists subjects_id_student_id_key
    on planner.subjects (id, student_id);
alter table planner.subjects
    add constraint subjects_id_student_id_key unique using index subjects_id_student_id_key;

drop index concurrently if exists planner.ai_tasks_plan_id_user_id_idx;
create index concurrently if not exists ai_tasks_plan_id_user_id_idx
    on planner.ai_tasks (plan_id, user_id);
drop index concurrently if exists planner.ai_tasks_subject_id_user_id_idx;
create index concurrently if not exists ai_tasks_subject_id_user_id_idx
    on planner.ai_tasks (subject_id, user_id);

alter table planner.ai_tasks
    add constraint ai_tasks_plan_id_user_id_fkey foreign key (plan_id, user_id)
    references planner.plans (id, user_id) on delete cascade not valid;
alter table planner.ai_tasks validate constraint ai_tasks_plan_id_user_id_fkey;
alter table planner.ai_tasks drop constraint ai_tasks_plan_id_fkey;
alter table planner.ai_tasks
    rename constraint ai_tasks_plan_id_user_id_fkey to ai_tasks_plan_id_fkey;

alter table planner.ai_tasks
    add constraint ai_tasks_subject_id_user_id_fkey foreign key (subject_id, user_id)
    references planner.subjects (id, student_id) on delete cascade not valid;
alter table planner.ai_tasks validate constraint ai_tasks_subject_id_user_id_fkey;
alter table planner.ai_tasks drop constraint ai_tasks_subject_id_fkey;
alter table planner.ai_tasks
    rename constraint ai_tasks_subject_id_user_id_fkey to ai_tasks_subject_id_fkey;

drop index concurrently if exists planner.ai_tasks_plan_id_idx;
drop index concurrently if exists planner.ai_tasks_subject_id_idx;

drop trigger if exists ai_tasks_subject_owner_check on planner.ai_tasks;
drop function if exists planner.check_ai_task_subject_owner();

reset statement_timeout;
reset lock_timeout;
