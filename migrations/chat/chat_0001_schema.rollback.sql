-- squawk-ignore-file ban-drop-table, ban-drop-function, ban-drop-schema, require-lock-timeout, require-statement-timeout -- a rollback removes the whole domain it made, on purpose
drop table chat.messages;
drop table chat.conversations;
drop table chat.users;
drop function chat.check_message_status();
drop function chat.refuse_message_move();
drop function chat.refuse_counter_write();
drop function chat.count_truncated_messages();
drop function chat.count_deleted_messages();
drop function chat.count_inserted_messages();
drop function chat.live_refresh_tokens(jsonb, text, integer);
drop function chat.refresh_tokens_are_valid(jsonb);
drop schema chat;
