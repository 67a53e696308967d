-- name: insert_message :one
insert into study.messages (chat_id, role, content)
values (:chat_id, :role, :content)
returning id, chat_id, role, content, created_at, seq;

-- name: messages_page :many
-- A chat's messages in the order they were written, a keyset page after seq
-- (coalesce keeps seq an index condition: the first page starts at the beginning).
select id, chat_id, role, content, created_at, seq
from study.messages
where chat_id = :chat_id and seq > coalesce(:after_seq::bigint, 0)
order by seq
limit (select :limit::integer);
