-- depends: chat_0004_secrets
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- yoyo runs this file outside a transaction (transactional: false above), as CONCURRENTLY needs
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object -- the PHC check takes the name of the check it replaces, the name the rules and the clients know
-- squawk-ignore-file ban-drop-constraint -- the check dropped is replaced first by a stronger one, validated
-- Secrets, second half (chat_0004_secrets did the first): every statement commits on its
-- own, so no lock is held longer than one step.
-- * The PHC check, which chat_0004_secrets added NOT VALID after clearing what failed it,
--   is validated and takes the old check's name.
-- * The OAuth identity's check is validated, and (oauth_provider, oauth_subject) made
--   unique by an index built CONCURRENTLY (an INVALID leftover of a failed build is
--   dropped first).
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table chat.users validate constraint users_hashed_password_phc_check;
alter table chat.users drop constraint users_hashed_password_check;
alter table chat.users
    rename constraint users_hashed_password_phc_check to users_hashed_password_check;

alter table chat.users validate constraint users_oauth_identity_check;

drop index concurrently if exists chat.users_oauth_identity_key;
create unique index concurrently if not exists users_oauth_identity_key
    on chat.users (oauth_provider, oauth_subject);
alter table chat.users
    add constraint users_oauth_identity_key unique using index users_oauth_identity_key;

reset statement_timeout;
reset lock_timeout;
