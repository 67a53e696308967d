-- Untimed setup of the chat benchmark, and the measures its figures compare with.

-- name: user_ids :many
-- Users by e-mail address (lower-case), through the unique index on lower(email).
select lower(email), id
from chat.users
where lower(email) = any(:emails::text[]);

-- name: conversation_exists :val
select exists (select 1 from chat.conversations where id = :id);

-- name: message_at :one
-- The key of a conversation's message at a position (0-based) in page order: where a
-- client that paged that far holds its cursor.
select created_at, id
from chat.messages
where conversation_id = :conversation_id
order by created_at, id
offset :position
limit 1;

-- name: messages_offset_page :many
-- The same page as messages_page, found by OFFSET: every row before it is read and
-- thrown away.
select id, conversation_id, sender, content, status, metadata, created_at
from chat.messages
where conversation_id = :conversation_id
order by created_at, id
offset :skipped
limit :limit;

-- name: disable_counting :exec
-- For the figure that measures what the insert trigger costs: the same insert without it.
alter table chat.messages disable trigger messages_count_inserted;

-- name: enable_counting :exec
alter table chat.messages enable trigger messages_count_inserted;

-- name: vacuum_chat :exec
-- After a timed cascade delete, so that the next one starts from the same table state.
vacuum chat.users, chat.conversations, chat.messages;
