-- squawk-ignore-file ban-drop-table, ban-drop-function, ban-drop-schema, require-lock-timeout, require-statement-timeout -- a rollback removes the whole domain it made, on purpose
drop table tickets.audit_log;
drop table tickets.session_errors;
drop table tickets.jira_project_context;
drop table tickets.jira_auth_tokens;
drop table tickets.attachments;
drop table tickets.ticket_dependencies;
drop table tickets.tickets;
drop table tickets.uploaded_files;
drop table tickets.session_validations;
drop table tickets.session_tasks;
drop table tickets.sessions;
drop function tickets.keep_audit_log();
drop function tickets.record_audit_session();
drop function tickets.check_dependency_cycles();
drop function tickets.fill_dependency_session();
drop function tickets.touch_updated_at();
drop schema tickets;
