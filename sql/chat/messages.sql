-- name: insert_message :one
-- Append a message; the triggers on chat.messages count it into its conversation.
-- created_at is the clock's time, not the transaction's, so messages appended in
-- one transaction keep their order.
insert into chat.messages (conversation_id, sender, content, status, metadata, created_at)
values (:conversation_id, :sender, :content, :status, :metadata, clock_timestamp())
returning id, conversation_id, sender, content, status, metadata, created_at;

-- name: get_message :one
select id, conversation_id, sender, content, status, metadata, created_at
from chat.messages
where id = :id;

-- name: append_chunk :execrows
-- One streamed chunk, appended in the database: only to a message still streaming.
update chat.messages
set content = content || :chunk
where id = :id and status = 'streaming';

-- name: finish_message :one
-- End a message that is being sent or streamed, as sent or failed, merging
-- :metadata into its metadata (token counts, a model name, an error).
update chat.messages
set status = :status,
    metadata = metadata || :metadata::jsonb
where id = :id and status in ('sending', 'streaming')
returning id, conversation_id, sender, content, status, metadata, created_at;

-- name: messages_page :many
-- A conversation's messages in order, after the cursor's (created_at, id): the first
-- page starts below every row. Read from the index (conversation_id, created_at, id)
-- at the cursor, so a page 100,000 messages deep costs what the first one does.
select id, conversation_id, sender, content, status, metadata, created_at
from chat.messages
where conversation_id = :conversation_id
  and (created_at, id) > (coalesce(:after_created_at::timestamptz, '-infinity'),
                          coalesce(:after_id::uuid, '00000000-0000-0000-0000-000000000000'))
order by created_at, id
limit :limit;

-- name: delete_message :execrows
-- The triggers on chat.messages take it out of its conversation's counters.
delete from chat.messages
where id = :id;
