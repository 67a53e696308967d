-- squawk-ignore-file ban-drop-constraint -- a rollback removes the check its migration added
set local lock_timeout = '5s';
set local statement_timeout = '30min';

alter table study.profiles drop constraint profiles_password_hash_phc_check;
