-- depends: tickets_0001_schema common_0002_tenancy
-- Tenancy (SPEC "Tenancy"): a session is the tickets domain's tenant. Every table
-- below it has carried session_id from the start, and every foreign key between them
-- already includes it (the composite keys of tickets_0001_schema), so this adds the
-- guard only: row-level security keeps a `db.tenant(session_id)` transaction to its
-- sessions' rows. jira_auth_tokens stay global (a Jira user's tokens serve every
-- session). An audit row whose session was deleted (session_id NULL) has no tenant:
-- only unscoped readers see it, by recorded_session_id.
set local lock_timeout = '5s';
set local statement_timeout = '30min';

-- Row-level security, forced (the owner too); tether_service sees the sessions named
-- in `tether.tenants` (public.tether_tenants()), the migrating role everything. The
-- tenants are read and cast once per statement (an InitPlan); COALESCE(..., false)
-- makes the test a filter to the planner, not an index condition stacked on the
-- query's own key predicate (planner_0003 says why). Foreign key checks and ON DELETE actions run as the
-- table owner and ignore the policies: deleting a session still clears its audit
-- rows' session_id (the one change the append-only trigger lets through).

alter table tickets.sessions enable row level security;
alter table tickets.sessions force row level security;
create policy tenant_scope on tickets.sessions to tether_service
    using (coalesce(id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.sessions to current_user using (true) with check (true);

alter table tickets.session_tasks enable row level security;
alter table tickets.session_tasks force row level security;
create policy tenant_scope on tickets.session_tasks to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.session_tasks to current_user using (true) with check (true);

alter table tickets.session_validations enable row level security;
alter table tickets.session_validations force row level security;
create policy tenant_scope on tickets.session_validations to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.session_validations to current_user using (true) with check (true);

alter table tickets.uploaded_files enable row level security;
alter table tickets.uploaded_files force row level security;
create policy tenant_scope on tickets.uploaded_files to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.uploaded_files to current_user using (true) with check (true);

alter table tickets.tickets enable row level security;
alter table tickets.tickets force row level security;
create policy tenant_scope on tickets.tickets to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.tickets to current_user using (true) with check (true);

alter table tickets.ticket_dependencies enable row level security;
alter table tickets.ticket_dependencies force row level security;
create policy tenant_scope on tickets.ticket_dependencies to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.ticket_dependencies to current_user using (true) with check (true);

alter table tickets.attachments enable row level security;
alter table tickets.attachments force row level security;
create policy tenant_scope on tickets.attachments to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.attachments to current_user using (true) with check (true);

alter table tickets.jira_project_context enable row level security;
alter table tickets.jira_project_context force row level security;
create policy tenant_scope on tickets.jira_project_context to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.jira_project_context to current_user using (true) with check (true);

alter table tickets.session_errors enable row level security;
alter table tickets.session_errors force row level security;
create policy tenant_scope on tickets.session_errors to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.session_errors to current_user using (true) with check (true);

alter table tickets.audit_log enable row level security;
alter table tickets.audit_log force row level security;
create policy tenant_scope on tickets.audit_log to tether_service
    using (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false))
    with check (coalesce(session_id = any ((select public.tether_tenants()::uuid[])::uuid[]), false));
create policy owner_unscoped on tickets.audit_log to current_user using (true) with check (true);

-- What the repositories run, and nothing more: the audit log and the error log are
-- written and read, never changed; the cycle check of a new dependency touches its
-- session's updated_at. jira_auth_tokens is global: no row-level security.
grant usage on schema tickets to tether_service;
grant select, insert, update, delete on tickets.sessions to tether_service;
grant select, insert, update on tickets.session_tasks to tether_service;
grant select, insert, update on tickets.session_validations to tether_service;
grant select, insert, delete on tickets.uploaded_files to tether_service;
grant select, insert, update, delete on tickets.tickets to tether_service;
grant select, insert, delete on tickets.ticket_dependencies to tether_service;
grant select, insert, delete on tickets.attachments to tether_service;
grant select, insert, update on tickets.jira_project_context to tether_service;
grant select, insert on tickets.session_errors to tether_service;
grant select, insert on tickets.audit_log to tether_service;
grant select, insert, update, delete on tickets.jira_auth_tokens to tether_service;
