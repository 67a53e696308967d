-- transactional: false
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object, ban-drop-constraint -- back to study_0004's schema: the PHC check NOT VALID, the old check beside it
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table study.profiles drop constraint profiles_password_hash_check;
alter table study.profiles
    add constraint profiles_password_hash_phc_check check (
        length(password_hash) <= 512
        and password_hash ~ '^\$(argon2id|argon2i|argon2d|scrypt|pbkdf2-sha256|pbkdf2-sha512)(\$v=[0-9]{1,4})?(\$[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64}(,[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64})*)?\$[A-Za-z0-9/+.-]{8,}\$[A-Za-z0-9/+]{16,}$'
    ) not valid;
alter table study.profiles
    add constraint profiles_password_hash_check check (password_hash ~ '^[!-~]{16,255}$') not valid;
alter table study.profiles validate constraint profiles_password_hash_check;

reset statement_timeout;
reset lock_timeout;
