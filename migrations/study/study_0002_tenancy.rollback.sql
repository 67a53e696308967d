-- squawk-ignore-file ban-drop-column, ban-drop-function -- a rollback removes what its migration added
-- squawk-ignore-file ban-drop-constraint -- the NOT NULL checks its migration added NOT VALID
set local lock_timeout = '5s';
set local statement_timeout = '30min';

revoke all on all tables in schema study from tether_service;
revoke usage on schema study from tether_service;

drop policy owner_unscoped on study.document_chunks;
drop policy tenant_scope on study.document_chunks;
alter table study.document_chunks no force row level security;
alter table study.document_chunks disable row level security;

drop policy owner_unscoped on study.messages;
drop policy tenant_scope on study.messages;
alter table study.messages no force row level security;
alter table study.messages disable row level security;

drop policy owner_unscoped on study.chats;
drop policy tenant_scope on study.chats;
alter table study.chats no force row level security;
alter table study.chats disable row level security;

drop policy owner_unscoped on study.topics;
drop policy tenant_scope on study.topics;
alter table study.topics no force row level security;
alter table study.topics disable row level security;

drop policy owner_unscoped on study.documents;
drop policy tenant_scope on study.documents;
alter table study.documents no force row level security;
alter table study.documents disable row level security;

drop policy owner_unscoped on study.study_sessions;
drop policy tenant_scope on study.study_sessions;
alter table study.study_sessions no force row level security;
alter table study.study_sessions disable row level security;

drop policy owner_unscoped on study.profiles;
drop policy tenant_scope on study.profiles;
alter table study.profiles no force row level security;
alter table study.profiles disable row level security;

drop trigger document_chunks_tenant on study.document_chunks;
drop function study.document_chunks_tenant();
drop trigger messages_tenant on study.messages;
drop function study.messages_tenant();
drop trigger chats_tenant on study.chats;
drop function study.chats_tenant();
drop trigger topics_tenant on study.topics;
drop function study.topics_tenant();
drop trigger documents_tenant on study.documents;
drop function study.documents_tenant();

alter table study.document_chunks drop constraint document_chunks_profile_id_not_null;
alter table study.messages drop constraint messages_profile_id_not_null;
alter table study.chats drop constraint chats_profile_id_not_null;
alter table study.topics drop constraint topics_profile_id_not_null;
alter table study.documents drop constraint documents_profile_id_not_null;

alter table study.document_chunks drop column profile_id;
alter table study.messages drop column profile_id;
alter table study.chats drop column profile_id;
alter table study.topics drop column profile_id;
alter table study.documents drop column profile_id;
