-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction, constraint-missing-not-valid -- runs outside a transaction, as its migration does (transactional: false there)
-- squawk-ignore-file ban-drop-constraint, ban-drop-not-null -- each composite foreign key goes back to the single-column one of the same name; the NOT NULL checks come back NOT VALID, as tutor_0002_tenancy left them
set lock_timeout = '5s';
set statement_timeout = '30min';

alter table tutor.audio_blobs drop constraint audio_blobs_conversation_id_fkey, add constraint audio_blobs_conversation_id_fkey
    foreign key (conversation_id) references tutor.conversations (id) on delete cascade not valid;
alter table tutor.audio_blobs validate constraint audio_blobs_conversation_id_fkey;
drop index concurrently if exists tutor.audio_blobs_conversation_id_course_id_idx;

create index concurrently if not exists conversations_week_id_idx on tutor.conversations (week_id);
alter table tutor.conversations drop constraint conversations_week_id_fkey, add constraint conversations_week_id_fkey
    foreign key (week_id) references tutor.weeks (id) on delete cascade not valid;
alter table tutor.conversations validate constraint conversations_week_id_fkey;
drop index concurrently if exists tutor.conversations_week_id_course_id_idx;

create index concurrently if not exists summaries_week_id_idx on tutor.summaries (week_id);
alter table tutor.summaries drop constraint summaries_week_id_fkey, add constraint summaries_week_id_fkey
    foreign key (week_id) references tutor.weeks (id) on delete cascade not valid;
alter table tutor.summaries validate constraint summaries_week_id_fkey;
drop index concurrently if exists tutor.summaries_week_id_course_id_idx;

alter table tutor.chunks drop constraint chunks_reading_id_fkey, add constraint chunks_reading_id_fkey
    foreign key (reading_id) references tutor.readings (id) on delete cascade not valid;
alter table tutor.chunks validate constraint chunks_reading_id_fkey;
drop index concurrently if exists tutor.chunks_reading_id_course_id_idx;

create index concurrently if not exists jobs_week_id_idx on tutor.jobs (week_id);
alter table tutor.jobs drop constraint jobs_week_id_fkey, add constraint jobs_week_id_fkey
    foreign key (week_id) references tutor.weeks (id) on delete set null not valid;
alter table tutor.jobs validate constraint jobs_week_id_fkey;
drop index concurrently if exists tutor.jobs_week_id_course_id_idx;

create index concurrently if not exists readings_week_id_idx on tutor.readings (week_id);
alter table tutor.readings drop constraint readings_week_id_fkey, add constraint readings_week_id_fkey
    foreign key (week_id) references tutor.weeks (id) on delete cascade not valid;
alter table tutor.readings validate constraint readings_week_id_fkey;
drop index concurrently if exists tutor.readings_week_id_course_id_idx;

drop index concurrently if exists tutor.conversations_id_course_id_key;
drop index concurrently if exists tutor.readings_id_course_id_key;
drop index concurrently if exists tutor.weeks_id_course_id_key;

alter table tutor.audio_blobs drop constraint if exists audio_blobs_course_id_not_null, add constraint audio_blobs_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.audio_blobs alter column course_id drop not null;
alter table tutor.conversations drop constraint if exists conversations_course_id_not_null, add constraint conversations_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.conversations alter column course_id drop not null;
alter table tutor.summaries drop constraint if exists summaries_course_id_not_null, add constraint summaries_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.summaries alter column course_id drop not null;
alter table tutor.chunks drop constraint if exists chunks_course_id_not_null, add constraint chunks_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.chunks alter column course_id drop not null;
alter table tutor.readings drop constraint if exists readings_course_id_not_null, add constraint readings_course_id_not_null
    check (course_id is not null) not valid;
alter table tutor.readings alter column course_id drop not null;

reset statement_timeout;
reset lock_timeout;
