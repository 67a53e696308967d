-- transactional: false
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object, ban-drop-constraint -- back to chat_0004_secrets' schema: the checks it added NOT VALID, the old password check beside them
-- Back to chat_0004_secrets' schema: the PHC and OAuth checks NOT VALID again, the old
-- password check (printable ASCII, 20 to 512 characters) back under its name, no unique
-- identity key.
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table chat.users drop constraint users_oauth_identity_key;

alter table chat.users drop constraint users_oauth_identity_check;
alter table chat.users
    add constraint users_oauth_identity_check check (
        (oauth_provider is null) = (oauth_subject is null)
        and oauth_provider ~ '^[a-z0-9][a-z0-9._-]{0,63}$'
        and length(oauth_subject) between 1 and 255
    ) not valid;

alter table chat.users
    rename constraint users_hashed_password_check to users_hashed_password_phc_check;
alter table chat.users drop constraint users_hashed_password_phc_check;
alter table chat.users
    add constraint users_hashed_password_phc_check check (
        length(hashed_password) <= 512
        and hashed_password ~ '^\$(argon2id|argon2i|argon2d|scrypt|pbkdf2-sha256|pbkdf2-sha512)(\$v=[0-9]{1,4})?(\$[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64}(,[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64})*)?\$[A-Za-z0-9/+.-]{8,}\$[A-Za-z0-9/+]{16,}$'
    ) not valid;
alter table chat.users
    add constraint users_hashed_password_check
    check (length(hashed_password) between 20 and 512 and hashed_password ~ '^[!-~]+$') not valid;
alter table chat.users validate constraint users_hashed_password_check;

reset statement_timeout;
reset lock_timeout;
