-- name: insert_reading :one
-- A file uploaded as a reading of a week.
insert into tutor.readings (week_id, filename, file_path)
values (:week_id, :filename, :file_path)
returning id, week_id, filename, file_path, uploaded_at;

-- name: get_reading :one
select id, week_id, filename, file_path, uploaded_at
from tutor.readings
where id = :id;

-- name: readings_of_week :many
-- A week's readings in upload order.
select id, week_id, filename, file_path, uploaded_at
from tutor.readings
where week_id = :week_id
order by uploaded_at, id;

-- name: delete_reading :execrows
-- The database cascades to the reading's chunks.
delete from tutor.readings
where id = :id;
