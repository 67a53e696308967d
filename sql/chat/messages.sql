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
-- Every write of a message locks its conversation's row first, as the counting
-- triggers of an append do: one lock order (conversation, then message) on every
-- path, so two transactions writing one conversation wait, never deadlock.
with conversation as materialized (
    select c.id
    from chat.conversations c
    where c.id = (select m.conversation_id from chat.messages m where m.id = :id)
    for no key update
)
update chat.messages m
set content = m.content || :chunk
from conversation
where m.id = :id and m.conversation_id = conversation.id and m.status = 'streaming';

-- name: finish_message :one
-- End a message that is being sent or streamed, as sent or failed, merging
-- :metadata into its metadata (token counts, a model name, an error).
-- The conversation's row is locked first (append_chunk says why).
with conversation as materialized (
    select c.id
    from chat.conversations c
    where c.id = (select m.conversation_id from chat.messages m where m.id = :id)
    for no key update
)
update chat.messages m
set status = :status,
    metadata = m.metadata || :metadata::jsonb
from conversation
where m.id = :id and m.conversation_id = conversation.id and m.status in ('sending', 'streaming')
returning m.id, m.conversation_id, m.sender, m.content, m.status, m.metadata, m.created_at;

-- name: messages_page :many
-- A conversation's messages in order, after the cursor's (created_at, id): the first
-- page starts below every row. Read from the index (conversation_id, created_at, id)
-- at the cursor, so a page 100,000 messages deep costs what the first one does.
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, conversation_id, sender, content, status, metadata, created_at
from chat.messages
where conversation_id = :conversation_id
  and (created_at, id) > (case when :after_created_at::timestamptz is null then '-infinity'
                               else :after_created_at::timestamptz end,
                          case when :after_id::uuid is null then '00000000-0000-0000-0000-000000000000'
                               else :after_id::uuid end)
order by created_at, id
limit (select :limit::integer);

-- name: delete_message :execrows
-- The triggers on chat.messages take it out of its conversation's counters. The
-- conversation's row is locked first, as an append locks it (append_chunk says
-- why): a transaction that appended and then deletes m waits for a lone delete of
-- m, or the lone delete for it, instead of the two deadlocking.
with conversation as materialized (
    select c.id
    from chat.conversations c
    where c.id = (select m.conversation_id from chat.messages m where m.id = :id)
    for no key update
)
delete from chat.messages m
using conversation
where m.id = :id and m.conversation_id = conversation.id;

-- The owner-scoped forms: the same statements, acting only on messages of :user_id
-- (the messages' tenant key, their conversation's user), whatever the connection's
-- tenant scope. The lock order is append_chunk's: the conversation, then the message.

-- name: insert_owned_message :one
-- user_id named: the foreign key (conversation_id, user_id) -> conversations (id,
-- user_id) refuses a conversation of another user as a missing one.
insert into chat.messages (conversation_id, user_id, sender, content, status, metadata, created_at)
values (:conversation_id, :user_id, :sender, :content, :status, :metadata, clock_timestamp())
returning id, conversation_id, sender, content, status, metadata, created_at;

-- name: get_owned_message :one
select id, conversation_id, sender, content, status, metadata, created_at
from chat.messages
where id = :id and user_id = :user_id;

-- name: append_owned_chunk :execrows
with conversation as materialized (
    select c.id
    from chat.conversations c
    where c.id = (select m.conversation_id from chat.messages m
                  where m.id = :id and m.user_id = :user_id)
    for no key update
)
update chat.messages m
set content = m.content || :chunk
from conversation
where m.id = :id and m.user_id = :user_id and m.conversation_id = conversation.id
  and m.status = 'streaming';

-- name: finish_owned_message :one
with conversation as materialized (
    select c.id
    from chat.conversations c
    where c.id = (select m.conversation_id from chat.messages m
                  where m.id = :id and m.user_id = :user_id)
    for no key update
)
update chat.messages m
set status = :status,
    metadata = m.metadata || :metadata::jsonb
from conversation
where m.id = :id and m.user_id = :user_id and m.conversation_id = conversation.id
  and m.status in ('sending', 'streaming')
returning m.id, m.conversation_id, m.sender, m.content, m.status, m.metadata, m.created_at;

-- name: owned_messages_page :many
-- messages_page, of a conversation of :user_id only (read from the same index).
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, conversation_id, sender, content, status, metadata, created_at
from chat.messages
where conversation_id = :conversation_id and user_id = :user_id
  and (created_at, id) > (case when :after_created_at::timestamptz is null then '-infinity'
                               else :after_created_at::timestamptz end,
                          case when :after_id::uuid is null then '00000000-0000-0000-0000-000000000000'
                               else :after_id::uuid end)
order by created_at, id
limit (select :limit::integer);

-- name: delete_owned_message :execrows
with conversation as materialized (
    select c.id
    from chat.conversations c
    where c.id = (select m.conversation_id from chat.messages m
                  where m.id = :id and m.user_id = :user_id)
    for no key update
)
delete from chat.messages m
using conversation
where m.id = :id and m.user_id = :user_id and m.conversation_id = conversation.id;
