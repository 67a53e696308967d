set local lock_timeout = '5s';
set local statement_timeout = '30min';

revoke all on all tables in schema tickets from tether_service;
revoke usage on schema tickets from tether_service;

drop policy owner_unscoped on tickets.audit_log;
drop policy tenant_scope on tickets.audit_log;
alter table tickets.audit_log no force row level security;
alter table tickets.audit_log disable row level security;

drop policy owner_unscoped on tickets.session_errors;
drop policy tenant_scope on tickets.session_errors;
alter table tickets.session_errors no force row level security;
alter table tickets.session_errors disable row level security;

drop policy owner_unscoped on tickets.jira_project_context;
drop policy tenant_scope on tickets.jira_project_context;
alter table tickets.jira_project_context no force row level security;
alter table tickets.jira_project_context disable row level security;

drop policy owner_unscoped on tickets.attachments;
drop policy tenant_scope on tickets.attachments;
alter table tickets.attachments no force row level security;
alter table tickets.attachments disable row level security;

drop policy owner_unscoped on tickets.ticket_dependencies;
drop policy tenant_scope on tickets.ticket_dependencies;
alter table tickets.ticket_dependencies no force row level security;
alter table tickets.ticket_dependencies disable row level security;

drop policy owner_unscoped on tickets.tickets;
drop policy tenant_scope on tickets.tickets;
alter table tickets.tickets no force row level security;
alter table tickets.tickets disable row level security;

drop policy owner_unscoped on tickets.uploaded_files;
drop policy tenant_scope on tickets.uploaded_files;
alter table tickets.uploaded_files no force row level security;
alter table tickets.uploaded_files disable row level security;

drop policy owner_unscoped on tickets.session_validations;
drop policy tenant_scope on tickets.session_validations;
alter table tickets.session_validations no force row level security;
alter table tickets.session_validations disable row level security;

drop policy owner_unscoped on tickets.session_tasks;
drop policy tenant_scope on tickets.session_tasks;
alter table tickets.session_tasks no force row level security;
alter table tickets.session_tasks disable row level security;

drop policy owner_unscoped on tickets.sessions;
drop policy tenant_scope on tickets.sessions;
alter table tickets.sessions no force row level security;
alter table tickets.sessions disable row level security;
