-- Untimed setup of the tickets benchmark.

-- name: reach :val
-- How many tickets a ticket depends on, directly or not: what the cycle check walks
-- when a new dependency points at it.
with recursive reach (ticket_id) as (
    select :ticket_id::uuid
    union
    select d.depends_on_ticket_id
    from reach join tickets.ticket_dependencies d on d.ticket_id = reach.ticket_id
)
select count(*) - 1 from reach;

-- name: add_validations_and_contexts :exec
-- What COPY cannot write here (asyncpg has no binary jsonb encoder): each session's
-- validation and Jira project context.
with validations as (
    insert into tickets.session_validations (session_id, is_valid, errors)
    select id, true, '[]' from unnest(:session_ids::uuid[]) as s (id)
)
insert into tickets.jira_project_context (session_id, project_key, project_name, issue_types,
                                          priorities)
select id, 'BENCH', 'Bench project',
       '[{"id": "10001", "name": "Epic"}, {"id": "10002", "name": "Story"},
         {"id": "10003", "name": "Task"}, {"id": "10004", "name": "Bug"}]',
       '[{"id": "1", "name": "Highest"}, {"id": "2", "name": "High"},
         {"id": "3", "name": "Medium"}, {"id": "4", "name": "Low"}]'
from unnest(:session_ids::uuid[]) as s (id);
