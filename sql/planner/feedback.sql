-- name: insert_feedback :one
-- Once per user and generation: a second one violates uc_user_generation_feedback.
insert into planner.feedback (user_id, generation_id, content)
values (:user_id, :generation_id, :content)
returning id, user_id, generation_id, content, created_at;

-- name: latest_feedback :many
-- The user's most recent feedback, newest first: what the rescheduler reads,
-- from the top of feedback_user_id_created_at_id_idx (no sort, however much
-- feedback the user has given).
select id, user_id, generation_id, content, created_at
from planner.feedback
where user_id = :user_id
order by created_at desc, id desc
limit (select :limit::integer);
