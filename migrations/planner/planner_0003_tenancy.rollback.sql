-- squawk-ignore-file ban-drop-column, ban-drop-function, ban-drop-constraint -- a rollback removes the column, check and function its migration added
set local lock_timeout = '5s';
set local statement_timeout = '30min';

revoke all on planner.users, planner.subjects, planner.plans, planner.ai_tasks, planner.feedback
    from tether_service;
revoke usage on schema planner from tether_service;

drop policy owner_unscoped on planner.feedback;
drop policy tenant_scope on planner.feedback;
alter table planner.feedback no force row level security;
alter table planner.feedback disable row level security;

drop policy owner_unscoped on planner.ai_tasks;
drop policy tenant_scope on planner.ai_tasks;
alter table planner.ai_tasks no force row level security;
alter table planner.ai_tasks disable row level security;

drop policy owner_unscoped on planner.plans;
drop policy tenant_scope on planner.plans;
alter table planner.plans no force row level security;
alter table planner.plans disable row level security;

drop policy owner_unscoped on planner.subjects;
drop policy tenant_scope on planner.subjects;
alter table planner.subjects no force row level security;
alter table planner.subjects disable row level security;

drop policy owner_unscoped on planner.users;
drop policy tenant_scope on planner.users;
alter table planner.users no force row level security;
alter table planner.users disable row level security;

drop trigger ai_tasks_tenant on planner.ai_tasks;
drop function planner.ai_tasks_tenant();
alter table planner.ai_tasks drop constraint ai_tasks_user_id_not_null;
alter table planner.ai_tasks drop column user_id;
