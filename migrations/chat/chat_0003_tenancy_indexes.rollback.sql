-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- runs outside a transaction, as its migration does (transactional: false there)
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object -- the one-column key takes back the name of the composite key it replaces
-- squawk-ignore-file ban-drop-constraint, ban-drop-not-null -- back to the previous schema: the composite key is replaced first by the one-column key it replaced; user_id goes back to its NOT VALID check
-- Back to chat_0002_tenancy's schema: the one-column foreign key, user_id nullable
-- under its NOT VALID check (the values filled in stay).
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table chat.messages
    add constraint messages_conversation_id_only_fkey foreign key (conversation_id)
    references chat.conversations (id) on delete cascade not valid;
alter table chat.messages validate constraint messages_conversation_id_only_fkey;
alter table chat.messages drop constraint messages_conversation_id_fkey;
alter table chat.messages
    rename constraint messages_conversation_id_only_fkey to messages_conversation_id_fkey;

drop index concurrently if exists chat.messages_conversation_id_user_id_idx;
alter table chat.conversations drop constraint conversations_id_user_id_key;

alter table chat.messages alter column user_id drop not null;
alter table chat.messages
    add constraint messages_user_id_not_null check (user_id is not null) not valid;

reset statement_timeout;
reset lock_timeout;
