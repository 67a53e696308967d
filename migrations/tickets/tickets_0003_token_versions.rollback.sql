-- squawk-ignore-file ban-drop-table, ban-drop-function, ban-drop-column, ban-drop-sequence -- a rollback removes what its migration made, on purpose
set local lock_timeout = '5s';
set local statement_timeout = '1min';

drop trigger jira_auth_tokens_version_grows on tickets.jira_auth_tokens;
drop function tickets.keep_token_versions_growing();
drop table tickets.jira_auth_token_high_water;
alter table tickets.jira_auth_tokens drop column version;
drop sequence tickets.jira_auth_token_versions;
