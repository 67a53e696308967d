-- squawk-ignore-file ban-drop-table, ban-drop-function, ban-drop-schema, require-lock-timeout, require-statement-timeout -- a rollback removes the whole domain it made, on purpose
drop table planner.feedback;
drop table planner.ai_tasks;
drop table planner.plans;
drop table planner.subjects;
drop table planner.users;
drop function planner.check_ai_task_subject_owner();
drop function planner.forbid_owner_change();
drop schema planner;
