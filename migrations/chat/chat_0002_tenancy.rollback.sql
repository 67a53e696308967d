-- squawk-ignore-file ban-drop-column, ban-drop-function, ban-drop-constraint -- a rollback removes the column, check and function its migration added
set local lock_timeout = '5s';
set local statement_timeout = '30min';

revoke all on chat.users, chat.conversations, chat.messages from tether_service;
revoke usage on schema chat from tether_service;

drop policy owner_unscoped on chat.messages;
drop policy tenant_scope on chat.messages;
alter table chat.messages no force row level security;
alter table chat.messages disable row level security;

drop policy owner_unscoped on chat.conversations;
drop policy tenant_scope on chat.conversations;
alter table chat.conversations no force row level security;
alter table chat.conversations disable row level security;

drop policy owner_unscoped on chat.users;
drop policy tenant_scope on chat.users;
alter table chat.users no force row level security;
alter table chat.users disable row level security;

drop trigger messages_tenant on chat.messages;
drop function chat.messages_tenant();
alter table chat.messages drop constraint messages_user_id_not_null;
alter table chat.messages drop column user_id;
