-- name: insert_message :one
-- Study's lock order: the session's row, the topic lock shared, then the chat (the
-- foreign key's). A missing chat is still the insert's to report (one row always goes in).
with session as materialized (
    select study.lock_session(
        (select c.session_id from study.chats c where c.id = :chat_id), 'shared'
    ) as id
)
insert into study.messages (chat_id, role, content)
select :chat_id, :role, :content
from session
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
