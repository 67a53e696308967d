-- depends: study_0003_tenancy_indexes
-- A profile's password_hash takes only a PHC string ($argon2id$..., $scrypt$...,
-- $pbkdf2-sha256$...; issue 21): the old check (16 to 255 printable ASCII characters)
-- let a plaintext password through. Added NOT VALID here, so new writes are checked at
-- once; study_0005_password_phc_check validates it outside this transaction.
-- A stored value that is not a PHC hash is refused: the column is NOT NULL, so there is
-- no "no password" to fall back to, and a made-up hash would lock the user out without
-- saying so. The migration stops, naming how many profiles and what to do.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

alter table study.profiles
    add constraint profiles_password_hash_phc_check check (
        length(password_hash) <= 512
        and password_hash ~ '^\$(argon2id|argon2i|argon2d|scrypt|pbkdf2-sha256|pbkdf2-sha512)(\$v=[0-9]{1,4})?(\$[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64}(,[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64})*)?\$[A-Za-z0-9/+.-]{8,}\$[A-Za-z0-9/+]{16,}$'
    ) not valid;

do $$
declare
    refused bigint;
begin
    select count(*) into refused from study.profiles
    where not (length(password_hash) <= 512
               and password_hash ~ '^\$(argon2id|argon2i|argon2d|scrypt|pbkdf2-sha256|pbkdf2-sha512)(\$v=[0-9]{1,4})?(\$[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64}(,[a-z0-9-]{1,32}=[A-Za-z0-9/+.-]{1,64})*)?\$[A-Za-z0-9/+.-]{8,}\$[A-Za-z0-9/+]{16,}$');
    if refused > 0 then
        raise exception '% profile(s) of study.profiles hold a password_hash that is not a PHC string', refused
            using hint = 'hash those passwords again (tether.passwords.hash_password) or set a reset-only '
                         'PHC hash of a random secret and ask the users to reset, then migrate again';
    end if;
end
$$;
