-- name: insert_generation :val
-- A whole generation in one statement, so it is written completely or not at all:
-- one plan per date, then each task joined to its day's new plan. Task arrays are
-- parallel: task_dates[i] is the day of the task with subject_ids[i], names[i], ...
with generation as (
    select gen_random_uuid() as generation_id
),
new_plans as (
    insert into planner.plans (user_id, date, generation_id)
    select :user_id, day, generation.generation_id
    from unnest(:dates::date[]) as day, generation
    returning id, date
),
new_tasks as (
    insert into planner.ai_tasks (plan_id, subject_id, ai_task_name, difficulty, priority)
    select new_plans.id, task.subject_id, task.name, task.difficulty, task.priority
    from unnest(:task_dates::date[], :subject_ids::bigint[], :names::text[],
                :difficulties::smallint[], :priorities::smallint[])
         as task (date, subject_id, name, difficulty, priority)
    join new_plans on new_plans.date = task.date
)
select generation_id from generation;

-- name: latest_calendar :one
-- The user's latest generation (the one holding their newest plan) as a calendar,
-- in one round trip: its days in date order, each day's tasks by priority with the
-- subject's name. Days and tasks come back as arrays of rows. The newest plan is
-- the user's first entry in plans_user_id_id_idx, however many plans other users
-- wrote after it.
select latest.generation_id,
       array(
           select row(p.id, p.date, array(
                      -- The subject's name by its key, task by task: a join could
                      -- hash every subject of every user when subjects has no statistics.
                      select row(t.id, t.subject_id,
                                 (select s.name from planner.subjects s where s.id = t.subject_id),
                                 t.ai_task_name, t.difficulty, t.priority)
                      from planner.ai_tasks t
                      where t.plan_id = p.id
                      order by t.priority desc, t.id))
           from planner.plans p
           where p.user_id = :user_id and p.generation_id = latest.generation_id
           order by p.date
       ) as days
from (
    -- Only plans_user_id_id_idx yields this order: with `user_id = :user_id` the
    -- planner drops user_id from the ORDER BY, and for a user with many plans it
    -- may then read plans_pkey backwards through everyone's newer plans instead.
    select generation_id
    from planner.plans
    where user_id between :user_id and :user_id
    order by user_id desc, id desc
    limit 1
) as latest;

-- name: list_generations :many
-- A page of the user's generations that still have plans, newest first: a
-- generation is as new as its newest plan (so the first is latest_calendar's),
-- with its span, its size and whether the user has given feedback on it. Keyset:
-- the page after :after_newest_plan_id (NULL: the first), :limit of them. The
-- user's plans are walked newest first (plans_user_id_id_idx), keeping each
-- plan that is its generation's newest, so a page costs what its own
-- generations hold, however many the user has. Each check is a scalar subquery,
-- run per plan, which a generic plan cannot turn into a join over all of them.
-- The limit is a subquery: a planner that saw it, and took the user to own few
-- plans (no statistics yet), would fetch all of them, check each and sort; not
-- seeing it, it plans to stop early, which only the index walk can
-- (docs/guarantees.md, "When ANALYZE matters").
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select head.generation_id,
       g.created_at,
       g.first_date,
       g.last_date,
       g.plan_count,
       g.task_count,
       g.has_feedback,
       head.id as newest_plan_id
from (
    select p.id, p.generation_id
    from planner.plans p
    where p.user_id between :user_id and :user_id  -- as in latest_calendar
      and p.id < case when :after_newest_plan_id::bigint is null then 9223372036854775807
                      else :after_newest_plan_id::bigint end
      -- `>=` keeps what `=` would (no plan of the generation is newer), but the
      -- planner's guess for `>=` leaves it a page's worth of plans to stop at;
      -- for `=` it would expect one plan in all of the user's to pass.
      and p.id >= (
          select max(same.id)
          from planner.plans same
          where same.user_id = :user_id and same.generation_id = p.generation_id
      )
    order by p.user_id desc, p.id desc
    limit (select :limit::integer)
) as head
cross join lateral (
    select min(p.created_at) as created_at,
           min(p.date) as first_date,
           max(p.date) as last_date,
           count(*) as plan_count,
           sum((select count(*) from planner.ai_tasks t where t.plan_id = p.id))::bigint
               as task_count,
           exists (
               select 1 from planner.feedback f
               where f.user_id = :user_id and f.generation_id = head.generation_id
           ) as has_feedback
    from planner.plans p
    where p.user_id = :user_id and p.generation_id = head.generation_id
    group by p.generation_id  -- one row, as head's plan is in it: tether check sees no NULL
) as g
order by head.id desc;

-- name: delete_plan :execrows
-- The plan's tasks go with it (cascade); feedback on its generation stays.
delete from planner.plans
where id = :id;

-- name: delete_generation :execrows
-- Every plan of one generation of a user, and by cascade their tasks.
delete from planner.plans
where user_id = :user_id and generation_id = :generation_id;
