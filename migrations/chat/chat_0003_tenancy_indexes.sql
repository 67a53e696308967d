-- depends: chat_0002_tenancy
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- yoyo runs this file outside a transaction (transactional: false above), as CONCURRENTLY needs
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object -- the composite key takes the name of the key it replaced, the name the rules and the clients know
-- squawk-ignore-file ban-drop-constraint -- each constraint dropped here is replaced first by a stronger one: the check by NOT NULL, the foreign key by its composite twin
-- Tenancy, second half (chat_0002_tenancy did the first): every statement commits on
-- its own, so no lock is held longer than one step.
-- * The messages written before get their user_id (their conversation's), then NOT
--   NULL, which the check validated first lets PostgreSQL set without a scan.
-- * A message's conversation is its own user's: the foreign key becomes composite,
--   (conversation_id, user_id) -> conversations (id, user_id), added NOT VALID,
--   validated, then given the old key's name. The conversations' unique (id, user_id)
--   and the index covering the key are built CONCURRENTLY (an INVALID leftover of a
--   failed build is dropped first).
set lock_timeout = '5s';
set statement_timeout = '30min';

update chat.messages as m
set user_id = c.user_id
from chat.conversations as c
where c.id = m.conversation_id and m.user_id is null;

alter table chat.messages validate constraint messages_user_id_not_null;
alter table chat.messages alter column user_id set not null;
alter table chat.messages drop constraint messages_user_id_not_null;

drop index concurrently if exists chat.conversations_id_user_id_key;
create unique index concurrently if not exists conversations_id_user_id_key
    on chat.conversations (id, user_id);
alter table chat.conversations
    add constraint conversations_id_user_id_key unique using index conversations_id_user_id_key;

drop index concurrently if exists chat.messages_conversation_id_user_id_idx;
create index concurrently if not exists messages_conversation_id_user_id_idx
    on chat.messages (conversation_id, user_id);

alter table chat.messages
    add constraint messages_conversation_id_user_id_fkey foreign key (conversation_id, user_id)
    references chat.conversations (id, user_id) on delete cascade not valid;
alter table chat.messages validate constraint messages_conversation_id_user_id_fkey;
alter table chat.messages drop constraint messages_conversation_id_fkey;
alter table chat.messages
    rename constraint messages_conversation_id_user_id_fkey to messages_conversation_id_fkey;

reset statement_timeout;
reset lock_timeout;
