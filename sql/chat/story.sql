-- name: rows_of_user :many
-- How many rows of each chat table belong to one user, counted by the database.
select 'users' as table_name, count(*) as row_count
from chat.users where id = :user_id
union all
select 'conversations', count(*) from chat.conversations where user_id = :user_id
union all
select 'messages', count(*)
from chat.messages m join chat.conversations c on c.id = m.conversation_id
where c.user_id = :user_id;

-- name: stored_token_hashes :val
-- The hashes a user's refresh_tokens holds, as the demo shows them.
select coalesce(array_agg(entry.token ->> 'hash'), '{}')
from chat.users as u, jsonb_array_elements(u.refresh_tokens) as entry (token)
where u.id = :user_id;
