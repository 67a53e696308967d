-- name: insert_topics_from_draft_plan :one
-- The topics of the session's draft plan, in one statement: one topic per entry of
-- draft_plan.topics, in the plan's order (order_index 0, 1, ...), with its
-- subtopics. Also says whether the session exists and has a plan. A session that
-- already has topics keeps them and refuses these (topics_session_id_order_index_key).
with session as (
    select s.id, s.draft_plan
    from study.study_sessions s
    where s.id = :session_id
),
created as (
    insert into study.topics (session_id, title, subtopics, order_index)
    select session.id,
           entry.topic ->> 'title',
           array(select jsonb_array_elements_text(coalesce(entry.topic -> 'subtopics', '[]'))),
           (entry.position - 1)::integer
    from session
    cross join lateral jsonb_array_elements(session.draft_plan -> 'topics')
         with ordinality as entry (topic, position)
    returning id, session_id, title, subtopics, order_index, is_completed, created_at, updated_at
)
select exists (select 1 from session) as session_found,
       exists (select 1 from session where draft_plan is not null) as has_draft_plan,
       array(
           select row(c.id, c.session_id, c.title, c.subtopics, c.order_index, c.is_completed,
                      c.created_at, c.updated_at)
           from created c
           order by c.order_index
       ) as topics;

-- name: list_topics :many
-- A session's topics in their order.
select id, session_id, title, subtopics, order_index, is_completed, created_at, updated_at
from study.topics
where session_id = :session_id
order by order_index;

-- name: reorder_topics :many
-- Every topic of the session takes its place in topic_ids (the first gets
-- order_index 0), in one statement: the unique order is checked at its end
-- (deferrable). Unless topic_ids holds each topic of the session exactly once,
-- nothing changes and no row comes back. Study's lock order (docs/guarantees.md,
-- "Lock order"): the session's row, the topic lock exclusive (order_index is in a
-- unique key: the update conflicts with the KEY SHARE of chunk and chat writers),
-- then the topics in id order FOR UPDATE.
with session as materialized (
    select study.lock_session(:session_id, 'exclusive') as id
),
wanted as (
    select w.id, (w.position - 1)::integer as order_index
    from unnest(:topic_ids::uuid[]) with ordinality as w (id, position)
),
current as materialized (
    select t.id
    from study.topics t, session
    where t.session_id = session.id
    order by t.id
    for update of t
),
complete as (
    select (select count(*) from wanted) = (select count(*) from current)
       and (select count(distinct id) from wanted) = (select count(*) from wanted)
       and (select count(*) from wanted join current using (id)) = (select count(*) from current)
       as ok
),
moved as (
    update study.topics t
    set order_index = wanted.order_index
    from wanted, complete
    where complete.ok and t.id = wanted.id and t.session_id = :session_id
    returning t.id, t.session_id, t.title, t.subtopics, t.order_index, t.is_completed,
              t.created_at, t.updated_at
)
select id, session_id, title, subtopics, order_index, is_completed, created_at, updated_at
from moved
order by order_index;

-- name: complete_topic :one
-- Study's lock order: the session's row, the topic lock shared, then the topic.
with session as materialized (
    select study.lock_session(
        (select t.session_id from study.topics t where t.id = :id), 'shared'
    ) as id
)
update study.topics t
set is_completed = :is_completed
from session
where t.id = :id and t.session_id = session.id
returning t.id, t.session_id, t.title, t.subtopics, t.order_index, t.is_completed,
          t.created_at, t.updated_at;

-- name: delete_topic :execrows
-- The database cascades to the topic's chat and its messages, and removes the
-- topic's id from every chunk's related_topic_ids (study.forget_deleted_topics).
-- Study's lock order: the session's row, the topic lock exclusive (study_0006_lock_order
-- says why the topic's row is not enough), then the topic and the chunks naming it.
with session as materialized (
    select study.lock_session(
        (select t.session_id from study.topics t where t.id = :id), 'exclusive'
    ) as id
)
delete from study.topics t
using session
where t.id = :id and t.session_id = session.id;
