-- squawk-ignore-file ban-drop-table, ban-drop-function, ban-drop-schema, require-lock-timeout, require-statement-timeout -- a rollback removes the whole domain it made, on purpose
drop table tutor.audio_blobs;
drop table tutor.conversations;
drop table tutor.summaries;
drop table tutor.chunks;
drop table tutor.jobs;
drop table tutor.readings;
drop table tutor.weeks;
drop table tutor.courses;
drop table tutor.users;
drop function tutor.forbid_reopen();
drop function tutor.set_updated_at();
drop schema tutor;
