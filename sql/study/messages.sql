-- name: insert_message :one
-- Study's lock order: the session's row FOR KEY SHARE, then the session's topic
-- lock, shared, then the chat (the foreign key's KEY SHARE): a topic's delete, or
-- the session's, deletes the chat, and waits for it. A missing chat is still the
-- insert's to report (one row always goes in).
with session as materialized (
    select s.id
    from study.study_sessions s
    where s.id = (select c.session_id from study.chats c where c.id = :chat_id)
    for key share
),
topic_lock as materialized (
    select study.lock_session_topics(session.id, false) from session
)
insert into study.messages (chat_id, role, content)
select :chat_id, :role, :content
from (select count(*) from topic_lock) as locked
returning id, chat_id, role, content, created_at, seq;

-- name: messages_page :many
-- A chat's messages in the order they were written, a keyset page after seq
-- (coalesce keeps seq an index condition: the first page starts at the beginning).
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, chat_id, role, content, created_at, seq
from study.messages
where chat_id = :chat_id and seq > case when :after_seq::bigint is null then 0
                                        else :after_seq::bigint end
order by seq
limit (select :limit::integer);
