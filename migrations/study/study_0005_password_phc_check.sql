-- depends: study_0004_password_phc
-- transactional: false
-- squawk-ignore-file constraint-missing-not-valid -- outside a transaction each statement commits on its own: VALIDATE runs after ADD ... NOT VALID has committed
-- squawk-ignore-file renaming-object -- the PHC check takes the name of the check it replaces, the name the rules and the clients know
-- squawk-ignore-file ban-drop-constraint -- the check dropped is replaced first by a stronger one, validated
-- The PHC check study_0004_password_phc added NOT VALID is validated, and takes the old
-- check's name; each statement commits on its own.
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table study.profiles validate constraint profiles_password_hash_phc_check;
alter table study.profiles drop constraint profiles_password_hash_check;
alter table study.profiles
    rename constraint profiles_password_hash_phc_check to profiles_password_hash_check;

reset statement_timeout;
reset lock_timeout;
