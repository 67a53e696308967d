-- name: open_general_chat :one
-- The session's one general chat, made on first use. The no-op update on conflict
-- returns the existing chat, also one another transaction has just made.
insert into study.chats (session_id, type)
values (:session_id, 'GENERAL')
on conflict (session_id, topic_id) do update set type = excluded.type
returning id, session_id, type, topic_id, is_started, created_at, updated_at;

-- name: open_topic_chat :one
-- The one chat of a topic, made on first use; no row if the topic does not exist.
insert into study.chats (session_id, type, topic_id)
select t.session_id, 'TOPIC', t.id
from study.topics t
where t.id = :topic_id
on conflict (session_id, topic_id) do update set type = excluded.type
returning id, session_id, type, topic_id, is_started, created_at, updated_at;

-- name: open_topic_chats :many
-- A chat for every topic of the session (made where missing), in topic order.
with opened as (
    insert into study.chats (session_id, type, topic_id)
    select t.session_id, 'TOPIC', t.id
    from study.topics t
    where t.session_id = :session_id
    on conflict (session_id, topic_id) do update set type = excluded.type
    returning id, session_id, type, topic_id, is_started, created_at, updated_at
)
select o.id, o.session_id, o.type, o.topic_id, o.is_started, o.created_at, o.updated_at
from opened o
join study.topics t on t.id = o.topic_id
order by t.order_index;

-- name: list_chats :many
-- A session's chats: the general one first, then the topic chats in topic order.
select c.id, c.session_id, c.type, c.topic_id, c.is_started, c.created_at, c.updated_at
from study.chats c
left join study.topics t on t.id = c.topic_id
where c.session_id = :session_id
order by t.order_index nulls first;

-- name: start_chat :one
update study.chats
set is_started = true
where id = :id
returning id, session_id, type, topic_id, is_started, created_at, updated_at;
