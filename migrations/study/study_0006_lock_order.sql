-- depends: study_0005_password_phc_check
-- Study's lock order (docs/guarantees.md, "Lock order"): the session's row, then the
-- session's topic lock, then its topics and chunks.
--
-- A topic's delete rewrites every chunk naming the topic (forget_deleted_topics)
-- while it holds the topic; a chunk's writer locks the topics it adds after the
-- chunk. Locking the named topics before the chunk cannot close the cycle: the
-- topics a chunk names are read before its row is locked, and a transaction that
-- waited for the chunk's row gets it naming a topic another transaction added
-- meanwhile, unlocked; that topic's delete then waits for the chunk while it holds
-- the topic the transaction wants next. So a session has one lock for its set of
-- topics: a write of its chunks takes it shared (first, or in a COPY's trigger
-- before any topic), a topic's delete exclusive: the delete waits for every
-- transaction writing the session's chunks, and they for it.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

-- The session's topic lock, a transaction-level advisory lock keyed by the table
-- (study.topics' oid) and the session (its uuid's hash; two sessions that share a
-- hash only wait for each other more often). Released at COMMIT or ROLLBACK.
create function study.lock_session_topics(session_id uuid, exclusive boolean) returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if exclusive then
        perform pg_advisory_xact_lock(
            'study.topics'::regclass::oid::integer, uuid_hash(session_id)
        );
    else
        perform pg_advisory_xact_lock_shared(
            'study.topics'::regclass::oid::integer, uuid_hash(session_id)
        );
    end if;
end
$$;

-- Study's lock order for one statement: the session's row FOR KEY SHARE, then the
-- session's topic lock ('shared', 'exclusive' or 'none'). Returns the session's id, or
-- NULL without taking the topic lock when there is no such session (or the caller
-- cannot see it: not SECURITY DEFINER, row-level security applies as in a statement).
create function study.lock_session(session_id uuid, topics text) returns uuid
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if topics is null or topics not in ('shared', 'exclusive', 'none') then
        raise exception 'study.lock_session: topics must be shared, exclusive or none, not %',
            coalesce(topics, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    perform 1 from study.study_sessions s where s.id = lock_session.session_id for key share;
    if not found then
        return null;
    end if;
    if topics <> 'none' then
        perform study.lock_session_topics(lock_session.session_id, topics = 'exclusive');
    end if;
    return lock_session.session_id;
end
$$;

create or replace function study.check_new_chunks() returns trigger
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
        -- Study's lock order: the session's topic lock before the topics (a COPY
        -- cannot take it before its rows; they are new, nobody waits for them).
        perform study.lock_session_topics(s.id, false)
        from (select distinct unnest(session_ids) as id order by 1) as s;
        perform study.require_topics(session_ids, topic_ids);
    end if;
    return null;
end
$$;
