-- name: insert_summary :one
insert into tutor.summaries (week_id, created_by_id, content)
values (:week_id, :created_by_id, :content)
returning id, week_id, created_by_id, content, created_at, updated_at;

-- name: summaries_of_week :many
-- A week's summaries, newest first.
select id, week_id, created_by_id, content, created_at, updated_at
from tutor.summaries
where week_id = :week_id
order by created_at desc, id desc;

-- name: update_summary :one
-- New content; updated_at is the trigger's to keep.
update tutor.summaries
set content = :content
where id = :id
returning id, week_id, created_by_id, content, created_at, updated_at;

-- name: delete_summary :execrows
delete from tutor.summaries
where id = :id;
