-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction, constraint-missing-not-valid -- runs outside a transaction, as its migration does (transactional: false there)
-- squawk-ignore-file ban-drop-constraint, ban-drop-not-null -- each composite foreign key goes back to the one of the same name without profile_id; the NOT NULL checks come back NOT VALID, as study_0002_tenancy left them
set lock_timeout = '5s';
set statement_timeout = '30min';

create index concurrently if not exists document_chunks_session_id_document_id_idx on study.document_chunks (session_id, document_id);
create index concurrently if not exists document_chunks_parent_chunk_id_idx on study.document_chunks (parent_chunk_id);

alter table study.document_chunks drop constraint document_chunks_parent_chunk_id_fkey, add constraint document_chunks_parent_chunk_id_fkey
    foreign key (parent_chunk_id) references study.document_chunks (id) on delete cascade not valid;
alter table study.document_chunks validate constraint document_chunks_parent_chunk_id_fkey;
alter table study.document_chunks drop constraint document_chunks_document_id_fkey, add constraint document_chunks_document_id_fkey
    foreign key (session_id, document_id) references study.documents (session_id, id) on delete cascade not valid;
alter table study.document_chunks validate constraint document_chunks_document_id_fkey;
alter table study.document_chunks drop constraint document_chunks_session_id_fkey, add constraint document_chunks_session_id_fkey
    foreign key (session_id) references study.study_sessions (id) on delete cascade not valid;
alter table study.document_chunks validate constraint document_chunks_session_id_fkey;
alter table study.messages drop constraint messages_chat_id_fkey, add constraint messages_chat_id_fkey
    foreign key (chat_id) references study.chats (id) on delete cascade not valid;
alter table study.messages validate constraint messages_chat_id_fkey;
alter table study.chats drop constraint chats_topic_id_fkey, add constraint chats_topic_id_fkey
    foreign key (session_id, topic_id) references study.topics (session_id, id) on delete cascade not valid;
alter table study.chats validate constraint chats_topic_id_fkey;
alter table study.chats drop constraint chats_session_id_fkey, add constraint chats_session_id_fkey
    foreign key (session_id) references study.study_sessions (id) on delete cascade not valid;
alter table study.chats validate constraint chats_session_id_fkey;
alter table study.topics drop constraint topics_session_id_fkey, add constraint topics_session_id_fkey
    foreign key (session_id) references study.study_sessions (id) on delete cascade not valid;
alter table study.topics validate constraint topics_session_id_fkey;
alter table study.documents drop constraint documents_session_id_fkey, add constraint documents_session_id_fkey
    foreign key (session_id) references study.study_sessions (id) on delete cascade not valid;
alter table study.documents validate constraint documents_session_id_fkey;

drop index concurrently if exists study.document_chunks_parent_chunk_id_profile_id_idx;
drop index concurrently if exists study.document_chunks_session_id_profile_id_document_id_idx;
drop index concurrently if exists study.messages_chat_id_profile_id_idx;
drop index concurrently if exists study.chats_session_id_profile_id_topic_id_idx;
drop index concurrently if exists study.document_chunks_id_profile_id_key;
drop index concurrently if exists study.chats_id_profile_id_key;
drop index concurrently if exists study.topics_session_id_profile_id_id_key;
drop index concurrently if exists study.documents_session_id_profile_id_id_key;
drop index concurrently if exists study.study_sessions_id_profile_id_key;

alter table study.document_chunks drop constraint if exists document_chunks_profile_id_not_null, add constraint document_chunks_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.document_chunks alter column profile_id drop not null;
alter table study.messages drop constraint if exists messages_profile_id_not_null, add constraint messages_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.messages alter column profile_id drop not null;
alter table study.chats drop constraint if exists chats_profile_id_not_null, add constraint chats_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.chats alter column profile_id drop not null;
alter table study.topics drop constraint if exists topics_profile_id_not_null, add constraint topics_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.topics alter column profile_id drop not null;
alter table study.documents drop constraint if exists documents_profile_id_not_null, add constraint documents_profile_id_not_null
    check (profile_id is not null) not valid;
alter table study.documents alter column profile_id drop not null;

reset statement_timeout;
reset lock_timeout;
