-- name: insert_conversation :one
-- A new conversation, with no messages yet (its counters start at zero).
insert into chat.conversations (user_id, title)
values (:user_id, :title)
returning id, user_id, title, messages_count, created_at, last_message_at;

-- name: get_conversation :one
select id, user_id, title, messages_count, created_at, last_message_at
from chat.conversations
where id = :id;

-- name: conversations_page :many
-- A user's conversations, newest first, after the cursor's (created_at, id): the
-- first page starts above every row. The index (user_id, created_at, id) is read
-- backwards from the cursor; no OFFSET, so page 1,000 costs what page 1 does.
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, user_id, title, messages_count, created_at, last_message_at
from chat.conversations
where user_id = :user_id
  and (created_at, id) < (case when :after_created_at::timestamptz is null then 'infinity'
                               else :after_created_at::timestamptz end,
                          case when :after_id::uuid is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'
                               else :after_id::uuid end)
order by created_at desc, id desc
limit (select :limit::integer);

-- name: rename_conversation :one
update chat.conversations
set title = :title
where id = :id
returning id, user_id, title, messages_count, created_at, last_message_at;

-- name: delete_conversation :execrows
-- The database cascades to the conversation's messages.
delete from chat.conversations
where id = :id;

-- The owner-scoped forms: the same statements, acting only on a conversation of
-- :user_id (another user's is not found), whatever the connection's tenant scope.

-- name: get_owned_conversation :one
select id, user_id, title, messages_count, created_at, last_message_at
from chat.conversations
where id = :id and user_id = :user_id;

-- name: rename_owned_conversation :one
update chat.conversations
set title = :title
where id = :id and user_id = :user_id
returning id, user_id, title, messages_count, created_at, last_message_at;

-- name: delete_owned_conversation :execrows
delete from chat.conversations
where id = :id and user_id = :user_id;
