-- name: plan_of_day :val
-- The id of the plan for one day of a generation.
select id from planner.plans
where generation_id = :generation_id and date = :date;

-- name: rows_of_user :many
-- How many rows of each planner table belong to one user, counted by the database.
select 'users' as table_name, count(*) as row_count
from planner.users where id = :user_id
union all
select 'subjects', count(*) from planner.subjects where student_id = :user_id
union all
select 'plans', count(*) from planner.plans where user_id = :user_id
union all
select 'ai_tasks', count(*)
from planner.ai_tasks t join planner.plans p on p.id = t.plan_id
where p.user_id = :user_id
union all
select 'feedback', count(*) from planner.feedback where user_id = :user_id;
