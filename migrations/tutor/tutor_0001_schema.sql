-- depends: common_0001_extensions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- every table here is new: no session can hold a lock on it yet
-- The voice tutor (seed 000): courses of weekly readings cut into chunks,
-- summaries, a job queue for the background work, and tutoring conversations
-- with their audio.

create schema tutor;

-- Kept by a trigger on every table with an updated_at column.
create function tutor.set_updated_at() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;

create table tutor.users (
    id         bigint generated always as identity primary key,
    email      text not null
               constraint users_email_check
               check (length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name       text not null
               constraint users_name_check check (btrim(name) <> '' and length(name) <= 255),
    role       text not null default 'student'
               constraint users_role_check check (role in ('student', 'professor', 'admin')),
    created_at timestamptz not null default now()
);
-- E-mail addresses are unique whatever their case.
create unique index users_email_key on tutor.users (lower(email));

create table tutor.courses (
    id           bigint generated always as identity primary key,
    name         text not null
                 constraint courses_name_check check (btrim(name) <> '' and length(name) <= 255),
    code         text not null
                 constraint courses_code_check check (btrim(code) <> '' and length(code) <= 64),
    professor_id bigint not null
                 constraint courses_professor_id_fkey references tutor.users (id) on delete cascade,
    created_at   timestamptz not null default now(),
    constraint courses_code_key unique (code)
);
create index courses_professor_id_idx on tutor.courses (professor_id);

create table tutor.weeks (
    id         bigint generated always as identity primary key,
    course_id  bigint not null
               constraint weeks_course_id_fkey references tutor.courses (id) on delete cascade,
    -- squawk-ignore prefer-bigint-over-int -- a week's number within one course
    number     integer not null constraint weeks_number_check check (number >= 1),
    title      text constraint weeks_title_check check (length(title) <= 255),
    created_at timestamptz not null default now(),
    -- Leading course_id: also the index behind weeks_course_id_fkey, in week order.
    constraint uq_weeks_course_number unique (course_id, number)
);

create table tutor.readings (
    id          bigint generated always as identity primary key,
    week_id     bigint not null
                constraint readings_week_id_fkey references tutor.weeks (id) on delete cascade,
    filename    text not null
                constraint readings_filename_check
                check (btrim(filename) <> '' and length(filename) <= 512),
    file_path   text not null
                constraint readings_file_path_check
                check (btrim(file_path) <> '' and length(file_path) <= 1024),
    uploaded_at timestamptz not null default now()
);
create index readings_week_id_idx on tutor.readings (week_id);

-- The job queue. Beyond the SPEC's columns, each with a default (see docs/tutor.md):
-- payload (what the job works on), attempt (how many times it was claimed: the
-- claim token every later write quotes) and lease_expires_at (until when the
-- claim holds; progress renews it, and a job whose lease lapsed is claimed again).
create table tutor.jobs (
    id               bigint generated always as identity primary key,
    kind             text not null
                     constraint jobs_kind_check check (btrim(kind) <> '' and length(kind) <= 255),
    status           text not null default 'pending'
                     constraint jobs_status_check
                     check (status in ('pending', 'running', 'succeeded', 'failed')),
    -- squawk-ignore prefer-bigint-over-int -- checked to 0..100 below
    progress         integer not null default 0
                     constraint jobs_progress_check check (progress between 0 and 100),
    error            text,
    week_id          bigint
                     constraint jobs_week_id_fkey references tutor.weeks (id) on delete set null,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    payload          jsonb not null default '{}',
    -- squawk-ignore prefer-bigint-over-int -- how many times one job was claimed
    attempt          integer not null default 0 constraint jobs_attempt_check check (attempt >= 0),
    lease_expires_at timestamptz,
    -- A running job holds a lease; a job that is not running holds none.
    constraint jobs_lease_check check ((status = 'running') = (lease_expires_at is not null))
);
create index jobs_week_id_idx on tutor.jobs (week_id);
-- The SPEC's indexes on status and kind, as one: queue depth by status and kind.
create index jobs_status_kind_idx on tutor.jobs (status, kind);
-- What a claim scans: the pending jobs only, oldest first, however many finished
-- jobs the table holds; and the running ones by lease, to find those that lapsed.
create index jobs_pending_idx on tutor.jobs (id) where status = 'pending';
create index jobs_lease_idx on tutor.jobs (lease_expires_at) where status = 'running';

create trigger jobs_set_updated_at
    before update on tutor.jobs
    for each row execute function tutor.set_updated_at();

create table tutor.chunks (
    id         bigint generated always as identity primary key,
    reading_id bigint not null
               constraint chunks_reading_id_fkey references tutor.readings (id) on delete cascade,
    -- squawk-ignore prefer-bigint-over-int -- a chunk's position within one reading
    idx        integer not null constraint chunks_idx_check check (idx >= 0),
    content    text not null,
    meta       jsonb,
    -- Leading reading_id: also the index behind chunks_reading_id_fkey, in chunk order.
    constraint chunks_reading_id_idx_key unique (reading_id, idx)
);

create table tutor.summaries (
    id            bigint generated always as identity primary key,
    week_id       bigint not null
                  constraint summaries_week_id_fkey references tutor.weeks (id) on delete cascade,
    created_by_id bigint not null
                  constraint summaries_created_by_id_fkey references tutor.users (id)
                  on delete cascade,
    content       text not null constraint summaries_content_check check (btrim(content) <> ''),
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index summaries_week_id_idx on tutor.summaries (week_id);
create index summaries_created_by_id_idx on tutor.summaries (created_by_id);

create trigger summaries_set_updated_at
    before update on tutor.summaries
    for each row execute function tutor.set_updated_at();

create table tutor.conversations (
    id               bigint generated always as identity primary key,
    user_id          bigint not null
                     constraint conversations_user_id_fkey references tutor.users (id)
                     on delete cascade,
    week_id          bigint not null
                     constraint conversations_week_id_fkey references tutor.weeks (id)
                     on delete cascade,
    session_id       text not null
                     constraint conversations_session_id_check
                     check (btrim(session_id) <> '' and length(session_id) <= 255),
    started_at       timestamptz not null default now(),
    ended_at         timestamptz,
    -- squawk-ignore prefer-bigint-over-int -- seconds of one conversation (68 years fit)
    duration_seconds integer
                     constraint conversations_duration_seconds_check check (duration_seconds >= 0),
    constraint conversations_session_id_key unique (session_id),
    constraint conversations_ended_at_check check (ended_at >= started_at),
    -- Ended means both set; the duration is the whole seconds between the two times
    -- (rounded either way), so it can never contradict them.
    constraint conversations_ended_check check ((ended_at is null) = (duration_seconds is null)),
    constraint conversations_duration_agrees_check check (
        duration_seconds between floor(extract(epoch from ended_at - started_at))
                             and ceil(extract(epoch from ended_at - started_at))
    )
);
create index conversations_user_id_idx on tutor.conversations (user_id);
create index conversations_week_id_idx on tutor.conversations (week_id);

-- A conversation ends once: its end time and duration never change afterwards.
create function tutor.forbid_reopen() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception 'a conversation ends once'
        using errcode = 'check_violation',
              schema = 'tutor',
              table = 'conversations',
              constraint = 'conversations_ended_once';
end
$$;

create trigger conversations_ended_once
    before update of ended_at, duration_seconds, started_at on tutor.conversations
    for each row when (old.ended_at is not null and (
        old.ended_at is distinct from new.ended_at
        or old.duration_seconds is distinct from new.duration_seconds
        or old.started_at is distinct from new.started_at))
    execute function tutor.forbid_reopen();

create table tutor.audio_blobs (
    id              bigint generated always as identity primary key,
    conversation_id bigint not null
                    constraint audio_blobs_conversation_id_fkey
                    references tutor.conversations (id) on delete cascade,
    -- Audio is compressed already: stored out of line, uncompressed.
    blob_data       bytea storage external not null
                    constraint audio_blobs_blob_data_check
                    check (octet_length(blob_data) between 1 and 16777216),
    recorded_at     timestamptz not null default now(),
    -- squawk-ignore prefer-bigint-over-int -- milliseconds of one piece of at most 16 MiB
    duration_ms     integer constraint audio_blobs_duration_ms_check check (duration_ms >= 0)
);
-- Leading conversation_id: the FK's index, and the order a conversation's audio streams in.
create index audio_blobs_conversation_id_id_idx on tutor.audio_blobs (conversation_id, id);
