-- depends: common_0001_extensions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- every table here is new: no session can hold a lock on it yet
-- The Jira ticket generator (seed 004): sessions with their uploaded files, task,
-- validation and Jira project context; tickets with a dependency graph that never
-- holds a cycle, and one attachment each; errors logged per session; Jira tokens,
-- encrypted by the application; an audit log the database keeps append-only.

create schema tickets;

-- updated_at is the time of the last write to the row, whoever wrote it.
create function tickets.touch_updated_at() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;

create table tickets.sessions (
    id           uuid primary key default gen_random_uuid(),
    jira_user_id text constraint sessions_jira_user_id_check check (length(jira_user_id) <= 255),
    title        text constraint sessions_title_check check (length(title) <= 255),
    status       text not null default 'active'
                 constraint sessions_status_check
                 check (status in ('active', 'exported', 'archived')),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

create trigger sessions_touch_updated_at
    before update on tickets.sessions
    for each row execute function tickets.touch_updated_at();

-- The session's background job (1:1): what the generator is doing and how far it is.
create table tickets.session_tasks (
    id         uuid primary key default gen_random_uuid(),
    session_id uuid not null
               constraint session_tasks_session_id_fkey
               references tickets.sessions (id) on delete cascade,
    status     text not null default 'pending'
               constraint session_tasks_status_check
               check (status in ('pending', 'running', 'completed', 'failed')),
    stage      text constraint session_tasks_stage_check check (length(stage) <= 255),
    -- squawk-ignore prefer-bigint-over-smallint -- checked to 0..100 below
    progress   smallint not null default 0
               constraint session_tasks_progress_check check (progress between 0 and 100),
    error      text,
    started_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- One task per session; also the index behind session_tasks_session_id_fkey.
    constraint session_tasks_session_id_key unique (session_id)
);

create trigger session_tasks_touch_updated_at
    before update on tickets.session_tasks
    for each row execute function tickets.touch_updated_at();

-- The session's latest validation (1:1): whether its tickets may be exported.
create table tickets.session_validations (
    id           uuid primary key default gen_random_uuid(),
    session_id   uuid not null
                 constraint session_validations_session_id_fkey
                 references tickets.sessions (id) on delete cascade,
    is_valid     boolean not null,
    errors       jsonb not null default '[]'
                 constraint session_validations_errors_check check (jsonb_typeof(errors) = 'array'),
    validated_at timestamptz not null default now(),
    constraint session_validations_session_id_key unique (session_id)
);

create table tickets.uploaded_files (
    id           uuid primary key default gen_random_uuid(),
    session_id   uuid not null
                 constraint uploaded_files_session_id_fkey
                 references tickets.sessions (id) on delete cascade,
    filename     text not null
                 constraint uploaded_files_filename_check
                 check (btrim(filename) <> '' and length(filename) <= 255),
    file_path    text not null
                 constraint uploaded_files_file_path_check
                 check (btrim(file_path) <> '' and length(file_path) <= 1024),
    content_type text not null
                 constraint uploaded_files_content_type_check
                 check (btrim(content_type) <> '' and length(content_type) <= 255),
    size_bytes   bigint not null
                 constraint uploaded_files_size_bytes_check check (size_bytes >= 0),
    uploaded_at  timestamptz not null default now(),
    -- The target of same-session references (session_errors); leading session_id,
    -- it is also the index behind uploaded_files_session_id_fkey.
    constraint uploaded_files_session_id_id_key unique (session_id, id)
);

create table tickets.tickets (
    id           uuid primary key default gen_random_uuid(),
    session_id   uuid not null
                 constraint tickets_session_id_fkey
                 references tickets.sessions (id) on delete cascade,
    summary      text not null
                 constraint tickets_summary_check
                 check (btrim(summary) <> '' and length(summary) <= 255),
    description  text,
    issue_type   text not null
                 constraint tickets_issue_type_check
                 check (issue_type in ('Epic', 'Story', 'Task', 'Bug', 'Subtask')),
    priority     text not null
                 constraint tickets_priority_check
                 check (priority in ('Highest', 'High', 'Medium', 'Low', 'Lowest')),
    -- Jira story points may be fractional (0.5); NaN and Infinity are no estimate.
    story_points numeric
                 constraint tickets_story_points_check
                 check (story_points >= 0 and story_points < 'Infinity'),
    -- Set once the ticket exists in Jira: PROJECT-123.
    jira_key     text
                 constraint tickets_jira_key_check
                 check (length(jira_key) <= 255 and jira_key ~ '^[A-Z][A-Z0-9_]*-[1-9][0-9]*$'),
    -- squawk-ignore prefer-bigint-over-int -- a place in one session's list of tickets
    position     integer not null constraint tickets_position_check check (position >= 0),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    -- At most one ticket per Jira issue; tickets not yet exported have none (NULL).
    constraint tickets_jira_key_key unique (jira_key),
    -- The target of same-session references (attachments, dependencies, errors);
    -- leading session_id, it is also the index behind tickets_session_id_fkey.
    constraint tickets_session_id_id_key unique (session_id, id)
);
-- A session's tickets in position order: keyset pages and the export's ties.
create index tickets_session_id_position_idx on tickets.tickets (session_id, position, id);

create trigger tickets_touch_updated_at
    before update on tickets.tickets
    for each row execute function tickets.touch_updated_at();

-- ticket_id depends on depends_on_ticket_id: the latter must be done (exported) first.
-- session_id is not in the SPEC's columns: both references carry it, so the
-- database itself keeps a dependency inside one session. An insert that leaves it
-- out gets the session of ticket_id (ticket_dependencies_fill_session).
create table tickets.ticket_dependencies (
    ticket_id            uuid not null,
    depends_on_ticket_id uuid not null,
    created_at           timestamptz not null default now(),
    session_id           uuid not null,
    constraint ticket_dependencies_pkey primary key (ticket_id, depends_on_ticket_id),
    constraint ticket_dependencies_no_self_check check (ticket_id <> depends_on_ticket_id),
    constraint ticket_dependencies_ticket_id_fkey foreign key (session_id, ticket_id)
        references tickets.tickets (session_id, id) on delete cascade,
    constraint ticket_dependencies_depends_on_ticket_id_fkey
        foreign key (session_id, depends_on_ticket_id)
        references tickets.tickets (session_id, id) on delete cascade
);
create index ticket_dependencies_session_id_ticket_id_idx
    on tickets.ticket_dependencies (session_id, ticket_id);
-- Also the way from a ticket to the tickets that depend on it (the export order).
create index ticket_dependencies_session_id_depends_on_ticket_id_idx
    on tickets.ticket_dependencies (session_id, depends_on_ticket_id);

-- A dependency written without its session takes the session of its ticket.
create function tickets.fill_dependency_session() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if new.session_id is null then
        select t.session_id into new.session_id
        from tickets.tickets t
        where t.id = new.ticket_id;
        if new.session_id is null then
            raise exception 'the dependent ticket of a dependency must exist'
                using errcode = 'foreign_key_violation',
                      schema = 'tickets',
                      table = 'ticket_dependencies',
                      constraint = 'ticket_dependencies_ticket_id_fkey';
        end if;
    end if;
    return new;
end
$$;

create trigger ticket_dependencies_fill_session
    before insert on tickets.ticket_dependencies
    for each row execute function tickets.fill_dependency_session();

-- No cycles. Once per statement, over the rows it added: a new edge t -> d closes a
-- cycle exactly when d already reaches t, so the walk starts at each new edge's d
-- and covers only what is reachable from there (the graph was acyclic before).
--
-- Writers of one session's graph are serialized by updating the session row
-- (its updated_at) first: under READ COMMITTED a second writer waits for the first
-- to commit, and the walk, a later statement, sees the first writer's edges; under
-- REPEATABLE READ or SERIALIZABLE, where its snapshot could not see them, the second
-- writer gets a serialization failure, for its caller to run the transaction again.
create function tickets.check_dependency_cycles() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    update tickets.sessions s
    set updated_at = pg_catalog.now()
    where s.id in (select a.session_id from added a);

    if exists (
        with recursive walk (origin, node) as (
            select a.ticket_id, a.depends_on_ticket_id from added a
            union
            select w.origin, d.depends_on_ticket_id
            from walk w
            join tickets.ticket_dependencies d on d.ticket_id = w.node
        )
        select 1 from walk where walk.node = walk.origin
    ) then
        raise exception 'a dependency would close a cycle'
            using errcode = 'check_violation',
                  schema = 'tickets',
                  table = 'ticket_dependencies',
                  constraint = 'ticket_dependencies_no_cycle';
    end if;
    return null;
end
$$;

create trigger ticket_dependencies_no_cycle_on_insert
    after insert on tickets.ticket_dependencies
    referencing new table as added
    for each statement execute function tickets.check_dependency_cycles();

create trigger ticket_dependencies_no_cycle_on_update
    after update on tickets.ticket_dependencies
    referencing new table as added
    for each statement execute function tickets.check_dependency_cycles();

-- A ticket's one attachment. The foreign key lives here only (no attachment_id on
-- tickets), so there is no circular reference.
create table tickets.attachments (
    id           uuid primary key default gen_random_uuid(),
    session_id   uuid not null
                 constraint attachments_session_id_fkey
                 references tickets.sessions (id) on delete cascade,
    ticket_id    uuid not null,
    filename     text not null
                 constraint attachments_filename_check
                 check (btrim(filename) <> '' and length(filename) <= 255),
    content_type text not null
                 constraint attachments_content_type_check
                 check (btrim(content_type) <> '' and length(content_type) <= 255),
    file_path    text not null
                 constraint attachments_file_path_check
                 check (btrim(file_path) <> '' and length(file_path) <= 1024),
    created_at   timestamptz not null default now(),
    constraint attachments_ticket_id_key unique (ticket_id),
    constraint attachments_ticket_id_fkey foreign key (session_id, ticket_id)
        references tickets.tickets (session_id, id) on delete cascade
);
-- Behind both attachments_session_id_fkey and attachments_ticket_id_fkey.
create index attachments_session_id_ticket_id_idx on tickets.attachments (session_id, ticket_id);

-- Jira OAuth tokens per Jira user, standalone. access_token and refresh_token hold
-- AES-GCM ciphertext made by tether (tether.tickets.tokens), never a token in
-- clear; key_id (not in the SPEC) names the key that encrypted them, so keys can
-- rotate. A row written without it cannot be read back.
create table tickets.jira_auth_tokens (
    jira_user_id  text primary key
                  constraint jira_auth_tokens_jira_user_id_check
                  check (btrim(jira_user_id) <> '' and length(jira_user_id) <= 255),
    access_token  bytea not null
                  constraint jira_auth_tokens_access_token_check
                  check (octet_length(access_token) <= 32768),
    refresh_token bytea
                  constraint jira_auth_tokens_refresh_token_check
                  check (octet_length(refresh_token) <= 32768),
    expires_at    timestamptz not null,
    scopes        text[] not null default '{}'
                  constraint jira_auth_tokens_scopes_check
                  check (cardinality(scopes) = 0
                         or (array_ndims(scopes) = 1 and array_position(scopes, null) is null)),
    updated_at    timestamptz not null default now(),
    key_id        text
                  constraint jira_auth_tokens_key_id_check check (key_id ~ '^[A-Za-z0-9_.-]{1,64}$')
);

create trigger jira_auth_tokens_touch_updated_at
    before update on tickets.jira_auth_tokens
    for each row execute function tickets.touch_updated_at();

-- What the session last fetched from Jira about its project (1:1), for the dropdowns.
create table tickets.jira_project_context (
    session_id   uuid primary key
                 constraint jira_project_context_session_id_fkey
                 references tickets.sessions (id) on delete cascade,
    project_key  text not null
                 constraint jira_project_context_project_key_check
                 check (length(project_key) <= 255 and project_key ~ '^[A-Z][A-Z0-9_]*$'),
    project_name text not null
                 constraint jira_project_context_project_name_check
                 check (btrim(project_name) <> '' and length(project_name) <= 255),
    issue_types  jsonb not null default '[]'
                 constraint jira_project_context_issue_types_check
                 check (jsonb_typeof(issue_types) = 'array'),
    priorities   jsonb not null default '[]'
                 constraint jira_project_context_priorities_check
                 check (jsonb_typeof(priorities) = 'array'),
    fetched_at   timestamptz not null default now()
);

-- An error met while working on a session, about one of its files or tickets or
-- neither. Deleting the file or ticket clears only that reference.
create table tickets.session_errors (
    id                uuid primary key default gen_random_uuid(),
    session_id        uuid not null
                      constraint session_errors_session_id_fkey
                      references tickets.sessions (id) on delete cascade,
    related_file_id   uuid,
    related_ticket_id uuid,
    error_type        text not null
                      constraint session_errors_error_type_check
                      check (btrim(error_type) <> '' and length(error_type) <= 255),
    message           text not null
                      constraint session_errors_message_check check (btrim(message) <> ''),
    details           jsonb not null default '{}'
                      constraint session_errors_details_check
                      check (jsonb_typeof(details) = 'object'),
    created_at        timestamptz not null default now(),
    constraint session_errors_related_file_id_fkey foreign key (session_id, related_file_id)
        references tickets.uploaded_files (session_id, id) on delete set null (related_file_id),
    constraint session_errors_related_ticket_id_fkey foreign key (session_id, related_ticket_id)
        references tickets.tickets (session_id, id) on delete set null (related_ticket_id)
);
-- A session's errors newest first (keyset pages); behind session_errors_session_id_fkey.
create index session_errors_session_id_created_at_idx
    on tickets.session_errors (session_id, created_at, id);
create index session_errors_session_id_related_file_id_idx
    on tickets.session_errors (session_id, related_file_id);
create index session_errors_session_id_related_ticket_id_idx
    on tickets.session_errors (session_id, related_ticket_id);

-- What happened, by whom, kept for good. session_id is cleared when its session is
-- deleted; recorded_session_id (not in the SPEC) keeps the session the event was
-- about, so a deleted session's trail can still be read. The database fills it.
create table tickets.audit_log (
    id                  bigint generated always as identity primary key,
    session_id          uuid
                        constraint audit_log_session_id_fkey
                        references tickets.sessions (id) on delete set null,
    action              text not null
                        constraint audit_log_action_check
                        check (btrim(action) <> '' and length(action) <= 255),
    actor               text constraint audit_log_actor_check check (length(actor) <= 255),
    details             jsonb not null default '{}'
                        constraint audit_log_details_check check (jsonb_typeof(details) = 'object'),
    created_at          timestamptz not null default now(),
    recorded_session_id uuid
);
create index audit_log_session_id_idx on tickets.audit_log (session_id);
-- A session's trail newest first (keyset pages), also after the session is gone.
create index audit_log_recorded_session_id_id_idx on tickets.audit_log (recorded_session_id, id);

create function tickets.record_audit_session() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.recorded_session_id := new.session_id;
    return new;
end
$$;

create trigger audit_log_record_session
    before insert on tickets.audit_log
    for each row execute function tickets.record_audit_session();

-- Append-only: an audit row never changes and never goes. The one change let
-- through is the SET NULL of audit_log_session_id_fkey when the session is deleted:
-- session_id becomes NULL, nothing else moves, and the session no longer exists.
create function tickets.keep_audit_log() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'UPDATE' then
        if old.session_id is not null
           and new.session_id is null
           and (new.id, new.action, new.actor, new.details, new.created_at,
                new.recorded_session_id)
               is not distinct from
               (old.id, old.action, old.actor, old.details, old.created_at,
                old.recorded_session_id)
           and not exists (select 1 from tickets.sessions s where s.id = old.session_id)
        then
            return new;
        end if;
    end if;
    raise exception 'the audit log is append-only (% refused)', tg_op
        using errcode = 'restrict_violation',
              schema = 'tickets',
              table = 'audit_log',
              constraint = 'audit_log_append_only';
end
$$;

create trigger audit_log_append_only
    before update or delete on tickets.audit_log
    for each row execute function tickets.keep_audit_log();

create trigger audit_log_no_truncate
    before truncate on tickets.audit_log
    for each statement execute function tickets.keep_audit_log();
