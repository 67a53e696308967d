-- depends: study_0002_tenancy
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction, constraint-missing-not-valid -- yoyo runs this file outside a transaction (transactional: false above): each statement commits on its own, as CONCURRENTLY and a VALIDATE apart from its ADD need
-- squawk-ignore-file ban-drop-constraint -- each foreign key is replaced by one of the same name that also holds profile_id, and each NOT NULL check by the NOT NULL it proved
-- Tenancy, the part that would lock the tables for long inside one transaction: the
-- keys the composite foreign keys point at and the indexes behind them, built
-- CONCURRENTLY; each foreign key between tenant tables replaced by its composite
-- twin (same name, same ON DELETE rule) NOT VALID, then validated; NOT NULL proved by
-- the checks of study_0002_tenancy, then set. One statement per step; an index build
-- that failed leaves an INVALID index behind, which the next run drops first.
set lock_timeout = '5s';
set statement_timeout = '30min';

-- NOT NULL: every row below a profile belongs to it.
alter table study.documents validate constraint documents_profile_id_not_null;
alter table study.documents alter column profile_id set not null;
alter table study.documents drop constraint if exists documents_profile_id_not_null;
alter table study.topics validate constraint topics_profile_id_not_null;
alter table study.topics alter column profile_id set not null;
alter table study.topics drop constraint if exists topics_profile_id_not_null;
alter table study.chats validate constraint chats_profile_id_not_null;
alter table study.chats alter column profile_id set not null;
alter table study.chats drop constraint if exists chats_profile_id_not_null;
alter table study.messages validate constraint messages_profile_id_not_null;
alter table study.messages alter column profile_id set not null;
alter table study.messages drop constraint if exists messages_profile_id_not_null;
alter table study.document_chunks validate constraint document_chunks_profile_id_not_null;
alter table study.document_chunks alter column profile_id set not null;
alter table study.document_chunks drop constraint if exists document_chunks_profile_id_not_null;

-- What the composite foreign keys point at (session_id leading where the table's
-- other keys lead with it).
create unique index concurrently if not exists study_sessions_id_profile_id_key
    on study.study_sessions (id, profile_id);
create unique index concurrently if not exists documents_session_id_profile_id_id_key
    on study.documents (session_id, profile_id, id);
create unique index concurrently if not exists topics_session_id_profile_id_id_key
    on study.topics (session_id, profile_id, id);
create unique index concurrently if not exists chats_id_profile_id_key
    on study.chats (id, profile_id);
create unique index concurrently if not exists document_chunks_id_profile_id_key
    on study.document_chunks (id, profile_id);

-- The indexes behind the new keys (replacing the ones they extend).
drop index concurrently if exists study.chats_session_id_profile_id_topic_id_idx;
create index concurrently if not exists chats_session_id_profile_id_topic_id_idx
    on study.chats (session_id, profile_id, topic_id);
drop index concurrently if exists study.messages_chat_id_profile_id_idx;
create index concurrently if not exists messages_chat_id_profile_id_idx
    on study.messages (chat_id, profile_id);
drop index concurrently if exists study.document_chunks_session_id_profile_id_document_id_idx;
create index concurrently if not exists document_chunks_session_id_profile_id_document_id_idx
    on study.document_chunks (session_id, profile_id, document_id);
drop index concurrently if exists study.document_chunks_parent_chunk_id_profile_id_idx;
create index concurrently if not exists document_chunks_parent_chunk_id_profile_id_idx
    on study.document_chunks (parent_chunk_id, profile_id);

alter table study.documents drop constraint documents_session_id_fkey, add constraint documents_session_id_fkey
    foreign key (session_id, profile_id) references study.study_sessions (id, profile_id) on delete cascade not valid;
alter table study.documents validate constraint documents_session_id_fkey;
alter table study.topics drop constraint topics_session_id_fkey, add constraint topics_session_id_fkey
    foreign key (session_id, profile_id) references study.study_sessions (id, profile_id) on delete cascade not valid;
alter table study.topics validate constraint topics_session_id_fkey;
alter table study.chats drop constraint chats_session_id_fkey, add constraint chats_session_id_fkey
    foreign key (session_id, profile_id) references study.study_sessions (id, profile_id) on delete cascade not valid;
alter table study.chats validate constraint chats_session_id_fkey;
alter table study.chats drop constraint chats_topic_id_fkey, add constraint chats_topic_id_fkey
    foreign key (session_id, topic_id, profile_id) references study.topics (session_id, id, profile_id) on delete cascade not valid;
alter table study.chats validate constraint chats_topic_id_fkey;
alter table study.messages drop constraint messages_chat_id_fkey, add constraint messages_chat_id_fkey
    foreign key (chat_id, profile_id) references study.chats (id, profile_id) on delete cascade not valid;
alter table study.messages validate constraint messages_chat_id_fkey;
alter table study.document_chunks drop constraint document_chunks_session_id_fkey, add constraint document_chunks_session_id_fkey
    foreign key (session_id, profile_id) references study.study_sessions (id, profile_id) on delete cascade not valid;
alter table study.document_chunks validate constraint document_chunks_session_id_fkey;
alter table study.document_chunks drop constraint document_chunks_document_id_fkey, add constraint document_chunks_document_id_fkey
    foreign key (session_id, document_id, profile_id) references study.documents (session_id, id, profile_id) on delete cascade not valid;
alter table study.document_chunks validate constraint document_chunks_document_id_fkey;
alter table study.document_chunks drop constraint document_chunks_parent_chunk_id_fkey, add constraint document_chunks_parent_chunk_id_fkey
    foreign key (parent_chunk_id, profile_id) references study.document_chunks (id, profile_id) on delete cascade not valid;
alter table study.document_chunks validate constraint document_chunks_parent_chunk_id_fkey;

drop index concurrently if exists study.document_chunks_session_id_document_id_idx;
drop index concurrently if exists study.document_chunks_parent_chunk_id_idx;

reset statement_timeout;
reset lock_timeout;
