-- The tenancy figures' own statements (benchmarks/tenancy.py).

-- name: derived_key_parents :one
-- The parents the derived-key figure inserts under: a planner user with a subject and a
-- plan, a chat user with a conversation.
with planner_user as (
    insert into planner.users (email, name)
    values ('derived-key@bench.test', 'Derived key')
    returning id
),
subject as (
    insert into planner.subjects (student_id, name)
    select id, 'Derived key' from planner_user
    returning id
),
day as (
    insert into planner.plans (user_id, date, generation_id)
    select id, date '2026-01-05', '00000000-0000-4000-8000-000000000001' from planner_user
    returning id
),
chat_user as (
    insert into chat.users (email) values ('derived-key@bench.test')
    returning id
),
conversation as (
    insert into chat.conversations (user_id) select id from chat_user
    returning id
)
select (select id from planner_user) as planner_user_id,
       (select id from subject) as subject_id,
       (select id from day) as plan_id,
       (select id from chat_user) as chat_user_id,
       (select id from conversation) as conversation_id;

-- name: task_key_derived :exec
-- A task naming only the SPEC's columns: planner.ai_tasks_tenant looks its user_id up.
insert into planner.ai_tasks (plan_id, subject_id, ai_task_name, difficulty, priority)
values (:plan_id, :subject_id, 'task', 1, 1);

-- name: task_key_named :exec
-- The same task naming its user_id: the trigger is skipped.
insert into planner.ai_tasks (plan_id, subject_id, ai_task_name, difficulty, priority, user_id)
values (:plan_id, :subject_id, 'task', 1, 1, :user_id);

-- name: message_key_derived :exec
-- A message naming only the SPEC's columns: chat.messages_tenant looks its user_id up.
insert into chat.messages (conversation_id, sender, content)
values (:conversation_id, 'user', 'message');

-- name: message_key_named :exec
insert into chat.messages (conversation_id, sender, content, user_id)
values (:conversation_id, 'user', 'message', :user_id);
