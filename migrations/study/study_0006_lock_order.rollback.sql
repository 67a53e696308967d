-- squawk-ignore-file ban-drop-function -- a rollback removes the functions its migration added (no client calls them: only study's own statements and trigger do)
-- Back to study_0005's schema: a COPY's trigger locks the topics only.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

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
        perform study.require_topics(session_ids, topic_ids);
    end if;
    return null;
end
$$;

drop function study.lock_session(uuid, text);
drop function study.lock_session_topics(uuid, boolean);
