-- name: rows_of_course :many
-- How many rows of each tutor table hang off one course, counted by the database,
-- and how many jobs were made for its weeks (those lose their week, never their row).
select 'weeks' as table_name, count(*) as row_count
from tutor.weeks where course_id = :course_id
union all
select 'readings', count(*) from tutor.readings r
join tutor.weeks w on w.id = r.week_id where w.course_id = :course_id
union all
select 'chunks', count(*) from tutor.chunks c
join tutor.readings r on r.id = c.reading_id
join tutor.weeks w on w.id = r.week_id where w.course_id = :course_id
union all
select 'summaries', count(*) from tutor.summaries s
join tutor.weeks w on w.id = s.week_id where w.course_id = :course_id
union all
select 'conversations', count(*) from tutor.conversations c
join tutor.weeks w on w.id = c.week_id where w.course_id = :course_id
union all
select 'audio_blobs', count(*) from tutor.audio_blobs a
join tutor.conversations c on c.id = a.conversation_id
join tutor.weeks w on w.id = c.week_id where w.course_id = :course_id;
