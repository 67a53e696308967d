-- name: start_conversation :one
-- A tutoring conversation of a user on a week, under the client's unique session id;
-- it starts now unless a start time is given.
insert into tutor.conversations (user_id, week_id, session_id, started_at)
values (:user_id, :week_id, :session_id, coalesce(:started_at::timestamptz, now()))
returning id, user_id, week_id, session_id, started_at, ended_at, duration_seconds;

-- name: end_conversation :one
-- Ends a conversation (now unless an end time is given), with its duration in whole
-- seconds computed here from the two times; a conversation ends once.
update tutor.conversations
set ended_at = coalesce(:ended_at::timestamptz, now()),
    duration_seconds = round(extract(epoch from coalesce(:ended_at::timestamptz, now())
                                                 - started_at))::integer
where id = :id
returning id, user_id, week_id, session_id, started_at, ended_at, duration_seconds;

-- name: get_conversation :one
select id, user_id, week_id, session_id, started_at, ended_at, duration_seconds
from tutor.conversations
where id = :id;

-- name: find_conversation_by_session :one
-- Through the unique index on session_id.
select id, user_id, week_id, session_id, started_at, ended_at, duration_seconds
from tutor.conversations
where session_id = :session_id;

-- name: conversations_of_week :many
-- A week's conversations, newest first.
select id, user_id, week_id, session_id, started_at, ended_at, duration_seconds
from tutor.conversations
where week_id = :week_id
order by started_at desc, id desc;

-- name: delete_conversation :execrows
-- The database cascades to its audio.
delete from tutor.conversations
where id = :id;
