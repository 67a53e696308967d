-- depends: tutor_0002_tenancy
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction, constraint-missing-not-valid -- yoyo runs this file outside a transaction (transactional: false above): each statement commits on its own, as CONCURRENTLY and a VALIDATE apart from its ADD need
-- squawk-ignore-file ban-drop-constraint -- each foreign key is replaced by one of the same name that also holds course_id, and each NOT NULL check by the NOT NULL it proved
-- Tenancy, the part that would lock the tables for long inside one transaction: the
-- (id, course_id) keys of the parents and the indexes behind the new foreign keys, built
-- CONCURRENTLY; each foreign key between tenant tables replaced by its composite
-- twin (same name, same ON DELETE rule) NOT VALID, then validated; NOT NULL proved by
-- the checks of tutor_0002_tenancy, then set. One statement per step; an index build
-- that failed leaves an INVALID index behind, which the next run drops first.
set lock_timeout = '5s';
set statement_timeout = '30min';

-- NOT NULL where a row cannot exist without a course (the check's scan is the only one).
alter table tutor.readings validate constraint readings_course_id_not_null;
alter table tutor.readings alter column course_id set not null;
alter table tutor.readings drop constraint if exists readings_course_id_not_null;
alter table tutor.chunks validate constraint chunks_course_id_not_null;
alter table tutor.chunks alter column course_id set not null;
alter table tutor.chunks drop constraint if exists chunks_course_id_not_null;
alter table tutor.summaries validate constraint summaries_course_id_not_null;
alter table tutor.summaries alter column course_id set not null;
alter table tutor.summaries drop constraint if exists summaries_course_id_not_null;
alter table tutor.conversations validate constraint conversations_course_id_not_null;
alter table tutor.conversations alter column course_id set not null;
alter table tutor.conversations drop constraint if exists conversations_course_id_not_null;
alter table tutor.audio_blobs validate constraint audio_blobs_course_id_not_null;
alter table tutor.audio_blobs alter column course_id set not null;
alter table tutor.audio_blobs drop constraint if exists audio_blobs_course_id_not_null;

-- What a composite foreign key points at: the parent's (id, course_id).
create unique index concurrently if not exists weeks_id_course_id_key on tutor.weeks (id, course_id);
create unique index concurrently if not exists readings_id_course_id_key on tutor.readings (id, course_id);
create unique index concurrently if not exists conversations_id_course_id_key on tutor.conversations (id, course_id);

drop index concurrently if exists tutor.readings_week_id_course_id_idx;
create index concurrently if not exists readings_week_id_course_id_idx on tutor.readings (week_id, course_id);
alter table tutor.readings drop constraint readings_week_id_fkey, add constraint readings_week_id_fkey
    foreign key (week_id, course_id) references tutor.weeks (id, course_id) on delete cascade not valid;
alter table tutor.readings validate constraint readings_week_id_fkey;
drop index concurrently if exists tutor.readings_week_id_idx;

-- MATCH FULL: a job has both a week and its course, or neither (deleting the week
-- clears both: the job then belongs to no course).
drop index concurrently if exists tutor.jobs_week_id_course_id_idx;
create index concurrently if not exists jobs_week_id_course_id_idx on tutor.jobs (week_id, course_id);
alter table tutor.jobs drop constraint jobs_week_id_fkey, add constraint jobs_week_id_fkey
    foreign key (week_id, course_id) references tutor.weeks (id, course_id) match full on delete set null not valid;
alter table tutor.jobs validate constraint jobs_week_id_fkey;
drop index concurrently if exists tutor.jobs_week_id_idx;

drop index concurrently if exists tutor.chunks_reading_id_course_id_idx;
create index concurrently if not exists chunks_reading_id_course_id_idx on tutor.chunks (reading_id, course_id);
alter table tutor.chunks drop constraint chunks_reading_id_fkey, add constraint chunks_reading_id_fkey
    foreign key (reading_id, course_id) references tutor.readings (id, course_id) on delete cascade not valid;
alter table tutor.chunks validate constraint chunks_reading_id_fkey;

drop index concurrently if exists tutor.summaries_week_id_course_id_idx;
create index concurrently if not exists summaries_week_id_course_id_idx on tutor.summaries (week_id, course_id);
alter table tutor.summaries drop constraint summaries_week_id_fkey, add constraint summaries_week_id_fkey
    foreign key (week_id, course_id) references tutor.weeks (id, course_id) on delete cascade not valid;
alter table tutor.summaries validate constraint summaries_week_id_fkey;
drop index concurrently if exists tutor.summaries_week_id_idx;

drop index concurrently if exists tutor.conversations_week_id_course_id_idx;
create index concurrently if not exists conversations_week_id_course_id_idx on tutor.conversations (week_id, course_id);
alter table tutor.conversations drop constraint conversations_week_id_fkey, add constraint conversations_week_id_fkey
    foreign key (week_id, course_id) references tutor.weeks (id, course_id) on delete cascade not valid;
alter table tutor.conversations validate constraint conversations_week_id_fkey;
drop index concurrently if exists tutor.conversations_week_id_idx;

drop index concurrently if exists tutor.audio_blobs_conversation_id_course_id_idx;
create index concurrently if not exists audio_blobs_conversation_id_course_id_idx on tutor.audio_blobs (conversation_id, course_id);
alter table tutor.audio_blobs drop constraint audio_blobs_conversation_id_fkey, add constraint audio_blobs_conversation_id_fkey
    foreign key (conversation_id, course_id) references tutor.conversations (id, course_id) on delete cascade not valid;
alter table tutor.audio_blobs validate constraint audio_blobs_conversation_id_fkey;

reset statement_timeout;
reset lock_timeout;
