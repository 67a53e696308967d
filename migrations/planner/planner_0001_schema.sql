-- depends: common_0001_extensions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- every table here is new: no session can hold a lock on it yet
-- The AI study planner (seed 001): users, subjects, day plans grouped in
-- generations, AI tasks, and feedback that drives regeneration.

create schema planner;

create table planner.users (
    id         bigint generated always as identity primary key,
    email      text not null
               constraint users_email_check
               check (length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name       text constraint users_name_check check (length(name) <= 255),
    created_at timestamptz not null default now()
);
-- E-mail addresses are unique whatever their case.
create unique index users_email_key on planner.users (lower(email));

create table planner.subjects (
    id         bigint generated always as identity primary key,
    student_id bigint not null
               constraint subjects_student_id_fkey references planner.users (id) on delete cascade,
    name       text not null
               constraint subjects_name_check check (btrim(name) <> '' and length(name) <= 255),
    created_at timestamptz not null default now(),
    -- Leading student_id: also the index behind subjects_student_id_fkey.
    constraint subjects_student_id_name_key unique (student_id, name)
);

create table planner.plans (
    id            bigint generated always as identity primary key,
    user_id       bigint not null
                  constraint plans_user_id_fkey references planner.users (id) on delete cascade,
    date          date not null,
    generation_id uuid not null,
    created_at    timestamptz not null default now(),
    -- One day per generation; leading user_id also covers plans_user_id_fkey.
    constraint plans_user_id_generation_id_date_key unique (user_id, generation_id, date)
);

create table planner.ai_tasks (
    id           bigint generated always as identity primary key,
    plan_id      bigint not null
                 constraint ai_tasks_plan_id_fkey references planner.plans (id) on delete cascade,
    subject_id   bigint not null
                 constraint ai_tasks_subject_id_fkey references planner.subjects (id) on delete cascade,
    ai_task_name text not null
                 constraint ai_tasks_ai_task_name_check
                 check (btrim(ai_task_name) <> '' and length(ai_task_name) <= 255),
    -- squawk-ignore prefer-bigint-over-smallint -- checked to 1..5 below
    difficulty   smallint not null
                 constraint ai_tasks_difficulty_check check (difficulty between 1 and 5),
    -- squawk-ignore prefer-bigint-over-smallint -- checked to 1..10 below
    priority     smallint not null
                 constraint ai_tasks_priority_check check (priority between 1 and 10),
    created_at   timestamptz not null default now()
);
create index ai_tasks_plan_id_idx on planner.ai_tasks (plan_id);
create index ai_tasks_subject_id_idx on planner.ai_tasks (subject_id);

create table planner.feedback (
    id            bigint generated always as identity primary key,
    user_id       bigint not null
                  constraint feedback_user_id_fkey references planner.users (id) on delete cascade,
    -- Not a foreign key: a generation is a group of plans, and feedback outlives them.
    generation_id uuid not null,
    content       text not null
                  constraint feedback_content_check check (btrim(content) <> ''),
    created_at    timestamptz not null default now(),
    constraint uc_user_generation_feedback unique (user_id, generation_id)
);

-- A task's subject must belong to the user whose plan holds the task. Checked
-- after each row (like a foreign key, so a generation inserted in one statement
-- sees its own new plans); ownership never changes, so no lock is needed.
create function planner.check_ai_task_subject_owner() returns trigger
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

-- Who owns a plan or a subject is fixed at creation; moving one would break
-- the rule above for every task already written.
create function planner.forbid_owner_change() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception 'the owner of a row in planner.% cannot change', tg_table_name
        using errcode = 'check_violation',
              schema = 'planner',
              table = tg_table_name,
              constraint = tg_table_name || '_owner_fixed';
end
$$;

create trigger plans_owner_fixed
    before update of user_id on planner.plans
    for each row when (old.user_id is distinct from new.user_id)
    execute function planner.forbid_owner_change();

create trigger subjects_owner_fixed
    before update of student_id on planner.subjects
    for each row when (old.student_id is distinct from new.student_id)
    execute function planner.forbid_owner_change();
