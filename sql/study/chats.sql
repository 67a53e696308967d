-- name: open_general_chat :one
-- The session's one general chat, made on first use. The no-op update on conflict
-- returns the existing chat, also one another transaction has just made. Study's
-- lock order: the session's row only (no topic's delete touches the general chat).
-- A missing session is still the insert's to report (one row always goes in).
with session as materialized (
    select study.lock_session(:session_id, 'none') as id
)
insert into study.chats (session_id, type)
select :session_id, 'GENERAL'
from session
on conflict (session_id, topic_id) do update set type = excluded.type
returning id, session_id, type, topic_id, is_started, created_at, updated_at;

-- name: open_topic_chat :one
-- The one chat of a topic, made on first use; no row if the topic does not exist.
-- Study's lock order: the session's row, the topic lock shared, then the topic and chat.
with session as materialized (
    select study.lock_session(
        (select t.session_id from study.topics t where t.id = :topic_id), 'shared'
    ) as id
)
insert into study.chats (session_id, type, topic_id)
select t.session_id, 'TOPIC', t.id
from study.topics t, session
where t.id = :topic_id and t.session_id = session.id
on conflict (session_id, topic_id) do update set type = excluded.type
returning id, session_id, type, topic_id, is_started, created_at, updated_at;

-- name: open_topic_chats :many
-- A chat for every topic of the session (made where missing), in topic order.
-- Study's lock order: the session's row, the topic lock shared, then the topics and chats.
with session as materialized (
    select study.lock_session(:session_id, 'shared') as id
),
opened as (
    insert into study.chats (session_id, type, topic_id)
    select t.session_id, 'TOPIC', t.id
    from study.topics t, session
    where t.session_id = session.id
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
-- Study's lock order: the session's row, the topic lock shared (the chat may be a
-- topic's), then the chat.
with session as materialized (
    select study.lock_session(
        (select c.session_id from study.chats c where c.id = :id), 'shared'
    ) as id
)
update study.chats c
set is_started = true
from session
where c.id = :id and c.session_id = session.id
returning c.id, c.session_id, c.type, c.topic_id, c.is_started, c.created_at, c.updated_at;
