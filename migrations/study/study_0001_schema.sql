-- depends: common_0001_extensions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- every table here is new: no session can hold a lock on it yet
-- Study sessions over uploaded documents (seed 003): profiles, sessions moving
-- through their statuses, documents, topics from a draft plan, chats and their
-- messages, and document chunks with 768-d embeddings for retrieval.
--
-- Every rule lives here: composite foreign keys keep documents, chats and chunks
-- inside their session; constraint checks and statement triggers keep the rest
-- (status moves, parent chunks, the topic ids in each chunk's array).

create schema study;

create type study.session_status as enum (
    'UPLOADING', 'GENERATING_PLAN', 'EDITING_PLAN', 'CHUNKING', 'ACTIVE', 'COMPLETED'
);
create type study.processing_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED');
create type study.chat_type as enum ('GENERAL', 'TOPIC');
create type study.chunk_type as enum ('PARENT', 'CHILD');

create table study.profiles (
    id            uuid primary key default gen_random_uuid(),
    email         text not null
                  constraint profiles_email_check
                  check (length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    -- The application hashes the password (argon2, bcrypt, scrypt...): what arrives
    -- here is a hash, printable ASCII without spaces, never a short clear text.
    password_hash text not null
                  constraint profiles_password_hash_check check (password_hash ~ '^[!-~]{16,255}$'),
    created_at    timestamptz not null default now()
);
-- E-mail addresses are unique whatever their case.
create unique index profiles_email_key on study.profiles (lower(email));

-- The shape of a draft plan (the AI drafts it, the student edits it, topics are
-- made from it): {"topics": [{"title": "...", "subtopics": ["...", ...]}, ...]}.
-- subtopics may be left out; other keys are the application's own. NULL is no plan.
create function study.is_draft_plan(plan jsonb) returns boolean
language plpgsql immutable strict
set search_path = pg_catalog, pg_temp
as $$
declare
    topic jsonb;
begin
    if jsonb_typeof(plan) <> 'object' or jsonb_typeof(plan -> 'topics') is distinct from 'array' then
        return false;
    end if;
    for topic in select jsonb_array_elements(plan -> 'topics') loop
        if jsonb_typeof(topic) <> 'object'
           or jsonb_typeof(topic -> 'title') is distinct from 'string'
           or (topic ? 'subtopics' and jsonb_typeof(topic -> 'subtopics') <> 'array') then
            return false;
        end if;
        if topic ? 'subtopics' and exists (
            select 1 from jsonb_array_elements(topic -> 'subtopics') as s (subtopic)
            where jsonb_typeof(s.subtopic) <> 'string'
        ) then
            return false;
        end if;
    end loop;
    return true;
end
$$;

create table study.study_sessions (
    id          uuid primary key default gen_random_uuid(),
    profile_id  uuid not null
                constraint study_sessions_profile_id_fkey
                references study.profiles (id) on delete cascade,
    title       text not null
                constraint study_sessions_title_check
                check (btrim(title) <> '' and length(title) <= 255),
    description text
                constraint study_sessions_description_check check (length(description) <= 5000),
    status      study.session_status not null default 'UPLOADING',
    draft_plan  jsonb
                constraint study_sessions_draft_plan_check check (study.is_draft_plan(draft_plan)),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
-- A profile's sessions newest first (keyset pages); leads with the foreign key.
create index study_sessions_profile_id_created_at_id_idx
    on study.study_sessions (profile_id, created_at, id);

create table study.documents (
    id                uuid primary key default gen_random_uuid(),
    session_id        uuid not null
                      constraint documents_session_id_fkey
                      references study.study_sessions (id) on delete cascade,
    file_name         text not null
                      constraint documents_file_name_check
                      check (btrim(file_name) <> '' and length(file_name) <= 255),
    file_path         text not null
                      constraint documents_file_path_check
                      check (btrim(file_path) <> '' and length(file_path) <= 1024),
    file_description  text
                      constraint documents_file_description_check
                      check (length(file_description) <= 5000),
    content_text      text,
    -- Computed by the database, so it always equals the text's length (0 without text).
    -- squawk-ignore prefer-bigint-over-int -- a text holds at most 2^30 characters
    content_length    integer not null generated always as (coalesce(length(content_text), 0)) stored,
    processing_status study.processing_status not null default 'PENDING',
    created_at        timestamptz not null default now(),
    -- What a chunk's composite foreign key points at (a chunk stays in its document's
    -- session); leading session_id also covers documents_session_id_fkey.
    constraint documents_session_id_id_key unique (session_id, id)
);

create table study.topics (
    id           uuid primary key default gen_random_uuid(),
    session_id   uuid not null
                 constraint topics_session_id_fkey
                 references study.study_sessions (id) on delete cascade,
    title        text not null
                 constraint topics_title_check check (btrim(title) <> '' and length(title) <= 255),
    subtopics    text[] not null default '{}'
                 constraint topics_subtopics_check
                 check (array_ndims(subtopics) is not distinct from 1 or subtopics = '{}')
                 constraint topics_subtopics_no_null_check
                 check (array_position(subtopics, null) is null),
    -- squawk-ignore prefer-bigint-over-int -- a place in a session's list of topics
    order_index  integer not null constraint topics_order_index_check check (order_index >= 0),
    is_completed boolean not null default false,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    -- Deferrable: a transaction may swap places and be checked at its end
    -- (`set constraints study.topics_session_id_order_index_key deferred`).
    constraint topics_session_id_order_index_key unique (session_id, order_index)
        deferrable initially immediate,
    -- What a topic chat's composite foreign key points at.
    constraint topics_session_id_id_key unique (session_id, id)
);

create table study.chats (
    id         uuid primary key default gen_random_uuid(),
    session_id uuid not null
               constraint chats_session_id_fkey
               references study.study_sessions (id) on delete cascade,
    type       study.chat_type not null,
    topic_id   uuid,
    is_started boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint chats_type_check check ((type = 'TOPIC') = (topic_id is not null)),
    -- The topic of a topic chat is a topic of the same session.
    constraint chats_topic_id_fkey foreign key (session_id, topic_id)
        references study.topics (session_id, id) on delete cascade,
    -- NULLS NOT DISTINCT: one chat per topic, and one general chat (no topic) per
    -- session. Leading session_id covers both foreign keys.
    constraint chats_session_id_topic_id_key unique nulls not distinct (session_id, topic_id)
);

create table study.messages (
    id         uuid primary key default gen_random_uuid(),
    chat_id    uuid not null
               constraint messages_chat_id_fkey references study.chats (id) on delete cascade,
    role       text not null
               constraint messages_role_check check (role in ('user', 'assistant', 'system')),
    content    text not null,
    created_at timestamptz not null default now(),
    -- Not in the seed: the order of a chat's messages. created_at is the
    -- transaction's start, shared by messages written together; this is not.
    seq        bigint generated always as identity
);
-- A chat's messages in order (keyset pages); leads with the foreign key.
create index messages_chat_id_seq_idx on study.messages (chat_id, seq);

create table study.document_chunks (
    id                uuid primary key default gen_random_uuid(),
    document_id       uuid not null,
    session_id        uuid not null
                      constraint document_chunks_session_id_fkey
                      references study.study_sessions (id) on delete cascade,
    parent_chunk_id   uuid
                      constraint document_chunks_parent_chunk_id_fkey
                      references study.document_chunks (id) on delete cascade,
    chunk_text        text not null
                      constraint document_chunks_chunk_text_check check (btrim(chunk_text) <> ''),
    -- Cosine distance needs a direction: a zero vector has none.
    embedding         public.vector(768)
                      constraint document_chunks_embedding_check
                      check (public.vector_norm(embedding) > 0),
    type              study.chunk_type not null,
    related_topic_ids uuid[] not null default '{}'
                      constraint document_chunks_related_topic_ids_check
                      check (
                          (array_ndims(related_topic_ids) is not distinct from 1
                           or related_topic_ids = '{}')
                          and array_position(related_topic_ids, null) is null
                      ),
    created_at        timestamptz not null default now(),
    -- A chunk lives in its document's session.
    constraint document_chunks_document_id_fkey foreign key (session_id, document_id)
        references study.documents (session_id, id) on delete cascade,
    -- PARENT chunks have no parent; CHILD chunks have one (a PARENT of the same
    -- document: document_chunks_parent_check, below).
    constraint document_chunks_type_check check ((type = 'PARENT') = (parent_chunk_id is null))
);
-- Covers document_chunks_session_id_fkey and document_chunks_document_id_fkey, and
-- finds a session's slice.
create index document_chunks_session_id_document_id_idx
    on study.document_chunks (session_id, document_id);
create index document_chunks_parent_chunk_id_idx on study.document_chunks (parent_chunk_id);
-- Approximate nearest neighbours by cosine distance (pgvector's defaults, m = 16,
-- ef_construction = 64).
create index document_chunks_embedding_idx
    on study.document_chunks using hnsw (embedding public.vector_cosine_ops);
-- Chunks related to given topics (&&, @>).
create index document_chunks_related_topic_ids_idx
    on study.document_chunks using gin (related_topic_ids);


-- updated_at follows every change of a row (and only a change).
create function study.touch_updated_at() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create trigger study_sessions_touch_updated_at
    before update on study.study_sessions
    for each row when (old is distinct from new)
    execute function study.touch_updated_at();

create trigger topics_touch_updated_at
    before update on study.topics
    for each row when (old is distinct from new)
    execute function study.touch_updated_at();

create trigger chats_touch_updated_at
    before update on study.chats
    for each row when (old is distinct from new)
    execute function study.touch_updated_at();


-- A session's status moves only along the seed's path, plus regenerating a plan
-- being edited and reopening a completed session.
create function study.check_status_move() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if (old.status::text, new.status::text) not in (
        ('UPLOADING', 'GENERATING_PLAN'),
        ('GENERATING_PLAN', 'EDITING_PLAN'),
        ('EDITING_PLAN', 'CHUNKING'),
        ('CHUNKING', 'ACTIVE'),
        ('ACTIVE', 'COMPLETED'),
        ('EDITING_PLAN', 'GENERATING_PLAN'),
        ('COMPLETED', 'ACTIVE')
    ) then
        raise exception 'a study session cannot move from % to %', old.status, new.status
            using errcode = 'check_violation',
                  schema = 'study',
                  table = 'study_sessions',
                  constraint = 'study_sessions_status_move_check';
    end if;
    return new;
end
$$;

create trigger study_sessions_status_move_check
    before update of status on study.study_sessions
    for each row when (old.status is distinct from new.status)
    execute function study.check_status_move();


-- The session of a document, topic or chat, and the place of a chunk (its
-- document, session, parent and type), are fixed once written: the rules above
-- were checked against them. Each trigger's name is its rule's.
create function study.forbid_move() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    raise exception 'study.%: % cannot change', tg_table_name, tg_argv[0]
        using errcode = 'check_violation',
              schema = 'study',
              table = tg_table_name,
              constraint = tg_name;
end
$$;

create trigger documents_session_fixed
    before update of session_id on study.documents
    for each row when (old.session_id is distinct from new.session_id)
    execute function study.forbid_move('the session of a document');

create trigger topics_session_fixed
    before update of session_id on study.topics
    for each row when (old.session_id is distinct from new.session_id)
    execute function study.forbid_move('the session of a topic');

create trigger chats_session_fixed
    before update of session_id on study.chats
    for each row when (old.session_id is distinct from new.session_id)
    execute function study.forbid_move('the session of a chat');

create trigger document_chunks_place_fixed
    before update of document_id, session_id, parent_chunk_id, type on study.document_chunks
    for each row when (
        (old.document_id, old.session_id, old.parent_chunk_id, old.type)
        is distinct from (new.document_id, new.session_id, new.parent_chunk_id, new.type)
    )
    execute function study.forbid_move('the document, session, parent and type of a chunk');


-- Every id in a chunk's related_topic_ids is a topic of the chunk's session.
-- The topics are locked FOR KEY SHARE, as a foreign key locks what it checks: a
-- topic being deleted makes this wait, then fail (the topic is gone); a topic
-- deleted after this waits for the chunk's transaction, then removes its id from
-- the chunk (study.forget_deleted_topics). `wanted` holds (session_id, topic_id)
-- pairs as two parallel arrays.
create function study.require_topics(session_ids uuid[], topic_ids uuid[]) returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    missing bigint;
begin
    with wanted as (
        select distinct w.session_id, w.topic_id
        from unnest(session_ids, topic_ids) as w (session_id, topic_id)
    ),
    held as materialized (
        select t.id, t.session_id
        from study.topics t
        where t.id = any(topic_ids)
        order by t.id
        for key share of t
    )
    select count(*) into missing
    from wanted w
    where not exists (
        select 1 from held h where h.id = w.topic_id and h.session_id = w.session_id
    );
    if missing > 0 then
        raise exception 'a related topic of a chunk is not a topic of its session'
            using errcode = 'foreign_key_violation',
                  schema = 'study',
                  table = 'document_chunks',
                  constraint = 'document_chunks_related_topics_fkey';
    end if;
end
$$;

-- New chunks, once per statement (an INSERT or a COPY of any size): each CHILD's
-- parent is a PARENT of the same document, each related topic one of the session.
create function study.check_new_chunks() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    session_ids uuid[];
    topic_ids uuid[];
begin
    -- A missing parent is the foreign key's to report; its place cannot change.
    if exists (
        select 1
        from new_chunks c
        join study.document_chunks p on p.id = c.parent_chunk_id
        where p.document_id <> c.document_id or p.type <> 'PARENT'
    ) then
        raise exception 'a CHILD chunk''s parent must be a PARENT chunk of the same document'
            using errcode = 'check_violation',
                  schema = 'study',
                  table = 'document_chunks',
                  constraint = 'document_chunks_parent_check';
    end if;
    select array_agg(c.session_id), array_agg(t.id)
    into session_ids, topic_ids
    from new_chunks c
    cross join lateral unnest(c.related_topic_ids) as t (id);
    if topic_ids is not null then
        perform study.require_topics(session_ids, topic_ids);
    end if;
    return null;
end
$$;

create trigger document_chunks_parent_check
    after insert on study.document_chunks
    referencing new table as new_chunks
    for each statement execute function study.check_new_chunks();

-- Changed chunks: only the topic ids an UPDATE adds are checked (removing one,
-- as study.forget_deleted_topics does, needs no check).
create function study.check_added_topics() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    session_ids uuid[];
    topic_ids uuid[];
begin
    select array_agg(n.session_id), array_agg(t.id)
    into session_ids, topic_ids
    from new_chunks n
    join old_chunks o on o.id = n.id
    cross join lateral unnest(n.related_topic_ids) as t (id)
    where t.id <> all(o.related_topic_ids);
    if topic_ids is not null then
        perform study.require_topics(session_ids, topic_ids);
    end if;
    return null;
end
$$;

create trigger document_chunks_related_topics_fkey
    after update on study.document_chunks
    referencing old table as old_chunks new table as new_chunks
    for each statement execute function study.check_added_topics();

-- A deleted topic leaves every chunk's related_topic_ids, once per statement, in
-- the statement that deletes it. The UPDATE below is a statement of its own:
-- under READ COMMITTED it sees every chunk committed before it, including one
-- whose writer held the topic locked while this DELETE waited. Under REPEATABLE
-- READ it could not (its snapshot is older), so a topic is not deleted there; a
-- topic deleted with its whole session needs nothing (its chunks go too).
create function study.forget_deleted_topics() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if current_setting('transaction_isolation') = 'repeatable read' and exists (
        select 1 from gone_topics g join study.study_sessions s on s.id = g.session_id
    ) then
        raise exception 'a topic is deleted under READ COMMITTED or SERIALIZABLE isolation'
            using errcode = 'object_not_in_prerequisite_state',
                  schema = 'study',
                  table = 'topics',
                  constraint = 'topics_delete_isolation_check',
                  hint = 'a REPEATABLE READ snapshot cannot see chunks written meanwhile';
    end if;
    update study.document_chunks c
    set related_topic_ids = array(
        select t.id
        from unnest(c.related_topic_ids) with ordinality as t (id, position)
        where t.id <> all(g.topic_ids)
        order by t.position
    )
    from (
        select g.session_id, array_agg(g.id) as topic_ids
        from gone_topics g
        join study.study_sessions s on s.id = g.session_id
        group by g.session_id
    ) as g
    where c.session_id = g.session_id and c.related_topic_ids && g.topic_ids;
    return null;
end
$$;

create trigger topics_forget_deleted
    after delete on study.topics
    referencing old table as gone_topics
    for each statement execute function study.forget_deleted_topics();


-- The approximate half of retrieval: the k nearest chunks of a session (related
-- to any of topic_ids, when given) by cosine distance, read from the HNSW index
-- with pgvector's iterative scan, so that a filter that drops candidates makes the
-- scan go on (up to hnsw.max_scan_tuples) instead of returning fewer than k rows.
-- The settings hold for this call only. enable_sort = off leaves the index as the
-- only way to the order. sql/study/chunks.sql decides when to call it.
create function study.approximate_neighbours(
    p_session_id uuid, p_query public.vector, p_k integer, p_topic_ids uuid[]
) returns table (id uuid, distance double precision)
language plpgsql stable rows 10
set search_path = pg_catalog, pg_temp
set hnsw.iterative_scan = 'relaxed_order'
set hnsw.ef_search = 100
set enable_sort = off
as $$
begin
    if p_k <= 0 then
        return;
    end if;
    -- relaxed_order may hand rows back slightly out of order: sorted again outside.
    return query
        with relaxed as materialized (
            select c.id, c.embedding operator(public.<=>) p_query as distance
            from study.document_chunks c
            where c.session_id = p_session_id
              and (p_topic_ids is null or c.related_topic_ids && p_topic_ids)
            order by c.embedding operator(public.<=>) p_query
            limit p_k
        )
        select r.id, r.distance from relaxed r order by r.distance, r.id;
end
$$;
