-- squawk-ignore-file ban-drop-column, ban-drop-function -- a rollback removes what its migration added
-- squawk-ignore-file ban-drop-constraint -- the NOT NULL checks its migration added NOT VALID
set local lock_timeout = '5s';
set local statement_timeout = '30min';

revoke all on all tables in schema tutor from tether_service;
revoke usage on schema tutor from tether_service;

drop policy owner_unscoped on tutor.audio_blobs;
drop policy tenant_scope on tutor.audio_blobs;
alter table tutor.audio_blobs no force row level security;
alter table tutor.audio_blobs disable row level security;
drop policy owner_unscoped on tutor.conversations;
drop policy tenant_scope on tutor.conversations;
alter table tutor.conversations no force row level security;
alter table tutor.conversations disable row level security;
drop policy owner_unscoped on tutor.summaries;
drop policy tenant_scope on tutor.summaries;
alter table tutor.summaries no force row level security;
alter table tutor.summaries disable row level security;
drop policy owner_unscoped on tutor.chunks;
drop policy tenant_scope on tutor.chunks;
alter table tutor.chunks no force row level security;
alter table tutor.chunks disable row level security;
drop policy owner_unscoped on tutor.jobs;
drop policy tenant_scope on tutor.jobs;
alter table tutor.jobs no force row level security;
alter table tutor.jobs disable row level security;
drop policy owner_unscoped on tutor.readings;
drop policy tenant_scope on tutor.readings;
alter table tutor.readings no force row level security;
alter table tutor.readings disable row level security;
drop policy owner_unscoped on tutor.weeks;
drop policy tenant_scope on tutor.weeks;
alter table tutor.weeks no force row level security;
alter table tutor.weeks disable row level security;
drop policy owner_unscoped on tutor.courses;
drop policy tenant_scope on tutor.courses;
alter table tutor.courses no force row level security;
alter table tutor.courses disable row level security;

drop trigger audio_blobs_tenant on tutor.audio_blobs;
drop function tutor.audio_blobs_tenant();
drop trigger conversations_tenant on tutor.conversations;
drop function tutor.conversations_tenant();
drop trigger summaries_tenant on tutor.summaries;
drop function tutor.summaries_tenant();
drop trigger chunks_tenant on tutor.chunks;
drop function tutor.chunks_tenant();
drop trigger jobs_tenant on tutor.jobs;
drop function tutor.jobs_tenant();
drop trigger readings_tenant on tutor.readings;
drop function tutor.readings_tenant();

alter table tutor.audio_blobs drop constraint audio_blobs_course_id_not_null;
alter table tutor.conversations drop constraint conversations_course_id_not_null;
alter table tutor.summaries drop constraint summaries_course_id_not_null;
alter table tutor.chunks drop constraint chunks_course_id_not_null;
alter table tutor.readings drop constraint readings_course_id_not_null;

alter table tutor.audio_blobs drop column course_id;
alter table tutor.conversations drop column course_id;
alter table tutor.summaries drop column course_id;
alter table tutor.chunks drop column course_id;
alter table tutor.jobs drop column course_id;
alter table tutor.readings drop column course_id;
