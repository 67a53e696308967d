"""The tickets domain's rules in plain words, by constraint name, for error messages."""

from tether.errors import Conflict, Rule
from tether.tickets.errors import AppendOnly, DependencyCycle

RULES = {
    "sessions_jira_user_id_check": "a Jira user id has at most 255 characters",
    "sessions_title_check": "a session's title has at most 255 characters",
    "sessions_status_check": "a session's status is active, exported or archived",
    "session_tasks_session_id_fkey": "the task's session must exist",
    "session_tasks_session_id_key": "a session has one task",
    "session_tasks_status_check": "a task's status is pending, running, completed or failed",
    "session_tasks_stage_check": "a task's stage has at most 255 characters",
    "session_tasks_progress_check": "a task's progress is between 0 and 100",
    "session_validations_session_id_fkey": "the validation's session must exist",
    "session_validations_session_id_key": "a session has one validation",
    "session_validations_errors_check": "a validation's errors are a JSON array",
    "uploaded_files_session_id_fkey": "the file's session must exist",
    "uploaded_files_session_id_id_key": "a file belongs to one session",
    "uploaded_files_filename_check": (
        "a file name must not be blank and has at most 255 characters"
    ),
    "uploaded_files_file_path_check": (
        "a file path must not be blank and has at most 1024 characters"
    ),
    "uploaded_files_content_type_check": (
        "a content type must not be blank and has at most 255 characters"
    ),
    "uploaded_files_size_bytes_check": "a file's size is 0 bytes or more",
    "tickets_session_id_fkey": "the ticket's session must exist",
    "tickets_session_id_id_key": "a ticket belongs to one session",
    "tickets_summary_check": "a ticket's summary must not be blank and has at most 255 characters",
    "tickets_issue_type_check": "a ticket's issue type is Epic, Story, Task, Bug or Subtask",
    "tickets_priority_check": "a ticket's priority is Highest, High, Medium, Low or Lowest",
    "tickets_story_points_check": "story points are a finite number, 0 or more",
    "tickets_jira_key_check": (
        "a Jira key looks like PROJECT-123 (upper-case project key, a dash, a number), "
        "at most 255 characters"
    ),
    "tickets_jira_key_key": "another ticket already has this Jira key",
    "tickets_position_check": "a ticket's position is 0 or more",
    "ticket_dependencies_pkey": "this dependency already exists",
    "ticket_dependencies_no_self_check": "a ticket cannot depend on itself",
    "ticket_dependencies_ticket_id_fkey": (
        "the dependent ticket must exist, in the dependency's session"
    ),
    "ticket_dependencies_depends_on_ticket_id_fkey": (
        "the ticket depended on must exist, in the same session as the dependent ticket"
    ),
    "ticket_dependencies_no_cycle": Rule(
        "a dependency may not close a cycle: the ticket depended on already depends, "
        "directly or through others, on the dependent ticket",
        DependencyCycle,
    ),
    "attachments_session_id_fkey": "the attachment's session must exist",
    "attachments_ticket_id_key": "this ticket already has an attachment",
    "attachments_ticket_id_fkey": (
        "the attachment's ticket must exist, in the attachment's session"
    ),
    "attachments_filename_check": (
        "an attachment's file name must not be blank and has at most 255 characters"
    ),
    "attachments_content_type_check": (
        "an attachment's content type must not be blank and has at most 255 characters"
    ),
    "attachments_file_path_check": (
        "an attachment's file path must not be blank and has at most 1024 characters"
    ),
    "jira_auth_tokens_pkey": "this Jira user already has tokens",
    "jira_auth_tokens_jira_user_id_check": (
        "a Jira user id must not be blank and has at most 255 characters"
    ),
    "jira_auth_tokens_access_token_check": "an encrypted access token is at most 32 KiB",
    "jira_auth_tokens_refresh_token_check": "an encrypted refresh token is at most 32 KiB",
    "jira_auth_tokens_scopes_check": "scopes are a flat list of text without NULLs",
    "jira_auth_tokens_key_id_check": ("a key id is 1 to 64 letters, digits, '.', '_' or '-'"),
    "jira_auth_tokens_version_grows": Rule(
        "a token row's version must grow with every write (a newer token was stored for "
        "this Jira user meanwhile, or the write did not come from JiraTokenRepository)",
        Conflict,
    ),
    "jira_auth_token_high_water_pkey": "a Jira user has one version high-water mark",
    "jira_project_context_pkey": "this session already has a project context",
    "jira_project_context_session_id_fkey": "the project context's session must exist",
    "jira_project_context_project_key_check": (
        "a Jira project key is upper-case letters, digits and '_', starting with a letter, "
        "at most 255 characters"
    ),
    "jira_project_context_project_name_check": (
        "a project name must not be blank and has at most 255 characters"
    ),
    "jira_project_context_issue_types_check": "the project's issue types are a JSON array",
    "jira_project_context_priorities_check": "the project's priorities are a JSON array",
    "session_errors_session_id_fkey": "the error's session must exist",
    "session_errors_related_file_id_fkey": "the error's file must be a file of its session",
    "session_errors_related_ticket_id_fkey": ("the error's ticket must be a ticket of its session"),
    "session_errors_error_type_check": (
        "an error type must not be blank and has at most 255 characters"
    ),
    "session_errors_message_check": "an error message must not be blank",
    "session_errors_details_check": "an error's details are a JSON object",
    "audit_log_session_id_fkey": "the audit event's session must exist",
    "audit_log_action_check": "an action must not be blank and has at most 255 characters",
    "audit_log_actor_check": "an actor has at most 255 characters",
    "audit_log_details_check": "an audit event's details are a JSON object",
    "audit_log_append_only": Rule(
        "the audit log is append-only: its rows are never updated, deleted or truncated "
        "(only a deleted session's id is cleared)",
        AppendOnly,
    ),
}
