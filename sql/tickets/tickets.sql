-- A session's tickets and the dependencies between them.
--
-- Lock order: the session's row, then its tickets and dependencies. The cycle
-- check (a trigger on ticket_dependencies) updates the session's row after the
-- insert has locked the tickets it names, so every statement that writes a
-- ticket, a dependency, an attachment or an error about a ticket locks the
-- session's row first (`session` below, FOR NO KEY UPDATE as the trigger's
-- UPDATE takes it): two transactions on one session's graph then wait for each
-- other instead of deadlocking. `from (select count(*) from session)` makes the
-- lock happen before the write, and keeps a missing parent the foreign key's to
-- report.

-- name: insert_tickets :many
-- A batch of tickets and the dependencies among them, in one statement: written
-- whole or not at all. Ticket arrays are parallel (summaries[i] goes with
-- positions[i], ...); a dependency is a pair (dependents[j], dependencies[j]) of
-- 1-based places in the batch. Ids are drawn first so that dependencies can name
-- tickets of the same statement; the new tickets come back in batch order.
with batch as materialized (
    select gen_random_uuid() as id, new.*
    from unnest(:summaries::text[], :descriptions::text[], :issue_types::text[],
                :priorities::text[], :story_points::numeric[], :positions::integer[])
         with ordinality
         as new (summary, description, issue_type, priority, story_points, position, place)
),
new_tickets as (
    insert into tickets.tickets
        (id, session_id, summary, description, issue_type, priority, story_points, position)
    select id, :session_id, summary, description, issue_type, priority, story_points, position
    from batch
    returning id, session_id, summary, description, issue_type, priority, story_points,
              jira_key, position, created_at, updated_at
),
new_dependencies as (
    insert into tickets.ticket_dependencies (session_id, ticket_id, depends_on_ticket_id)
    select :session_id, dependent.id, dependency.id
    from unnest(:dependents::bigint[], :dependencies::bigint[]) as edge (dependent, dependency)
    join batch dependent on dependent.place = edge.dependent
    join batch dependency on dependency.place = edge.dependency
)
select t.id, t.session_id, t.summary, t.description, t.issue_type, t.priority, t.story_points,
       t.jira_key, t.position, t.created_at, t.updated_at
from new_tickets t
join batch on batch.id = t.id
order by batch.place;

-- name: get_ticket :one
select id, session_id, summary, description, issue_type, priority, story_points, jira_key,
       position, created_at, updated_at
from tickets.tickets
where id = :id;

-- name: tickets_page :many
-- A session's tickets in position order, after the cursor's (position, id).
-- The cursor's NULL goes through CASE, not COALESCE: scoped, PostgreSQL takes COALESCE
-- for leaky and filters it after the policy instead of seeking the index (docs/tenancy.md).
select id, session_id, summary, description, issue_type, priority, story_points, jira_key,
       position, created_at, updated_at
from tickets.tickets
where session_id = :session_id
  and (position, id) > (case when :after_position::integer is null then -1
                             else :after_position::integer end,
                        case when :after_id::uuid is null then '00000000-0000-0000-0000-000000000000'
                             else :after_id::uuid end)
order by position, id
limit (select :limit::integer);

-- name: set_jira_key :one
-- The key Jira gave the ticket once exported; unique across every session.
with session as materialized (
    select s.id from tickets.sessions s
    where s.id = (select t.session_id from tickets.tickets t where t.id = :id)
    for no key update
)
update tickets.tickets t
set jira_key = :jira_key
from session
where t.id = :id and t.session_id = session.id
returning t.id, t.session_id, t.summary, t.description, t.issue_type, t.priority,
          t.story_points, t.jira_key, t.position, t.created_at, t.updated_at;

-- name: delete_ticket :execrows
-- Its dependencies (both ways) and its attachment go with it; errors about it stay,
-- their related_ticket_id cleared.
with session as materialized (
    select s.id from tickets.sessions s
    where s.id = (select t.session_id from tickets.tickets t where t.id = :id)
    for no key update
)
delete from tickets.tickets t
using session
where t.id = :id and t.session_id = session.id;

-- name: insert_dependency :one
-- ticket_id depends on depends_on_ticket_id. The database fills in the session, and
-- refuses a ticket of another session, a self-dependency and a cycle.
with session as materialized (
    select s.id from tickets.sessions s
    where s.id = (select t.session_id from tickets.tickets t where t.id = :ticket_id)
    for no key update
)
insert into tickets.ticket_dependencies (ticket_id, depends_on_ticket_id)
select :ticket_id::uuid, :depends_on_ticket_id::uuid
from (select count(*) from session) as locked
returning ticket_id, depends_on_ticket_id, session_id, created_at;

-- name: insert_dependencies :execrows
-- Many dependencies in one statement, checked together: all or none. Their
-- sessions' rows are locked first, in id order.
with sessions as materialized (
    select s.id from tickets.sessions s
    where s.id in (
        select t.session_id from tickets.tickets t where t.id = any(:ticket_ids::uuid[])
    )
    order by s.id
    for no key update
)
insert into tickets.ticket_dependencies (ticket_id, depends_on_ticket_id)
select edge.ticket_id, edge.depends_on_ticket_id
from (select count(*) from sessions) as locked,
     unnest(:ticket_ids::uuid[], :depends_on_ticket_ids::uuid[])
         as edge (ticket_id, depends_on_ticket_id);

-- name: delete_dependency :execrows
with session as materialized (
    select s.id from tickets.sessions s
    where s.id = (select t.session_id from tickets.tickets t where t.id = :ticket_id)
    for no key update
)
delete from tickets.ticket_dependencies d
using session
where d.ticket_id = :ticket_id and d.depends_on_ticket_id = :depends_on_ticket_id
  and d.session_id = session.id;

-- name: export_order :many
-- Every ticket of the session in the order to export it, with the tickets it
-- depends on (by position): nothing comes before what it depends on. A ticket's
-- key is the highest position among itself and all it depends on, transitively;
-- among equal keys, the longer the chain from the ticket holding that position, the
-- later; then position. So positions that already respect the dependencies are
-- kept as they are, and a ticket placed before one of its dependencies comes right
-- after it. The walk carries a position down to a dependent only when the dependent
-- is placed at or before it, so its cost follows the misplaced tickets: a session
-- in order costs one step per dependency.
with recursive walk (ticket_id, highest, hops) as (
    select t.id, t.position, 0
    from tickets.tickets t
    where t.session_id = :session_id
    union
    select d.ticket_id, walk.highest, walk.hops + 1
    from walk
    join tickets.ticket_dependencies d
      on d.session_id = :session_id and d.depends_on_ticket_id = walk.ticket_id
    join tickets.tickets dependent on dependent.id = d.ticket_id
    where walk.highest >= dependent.position
),
keys as (
    select distinct on (ticket_id) ticket_id, highest, hops
    from walk
    order by ticket_id, highest desc, hops desc
),
needs as (
    select d.ticket_id,
           array_agg(d.depends_on_ticket_id order by dependency.position, dependency.id)
               as depends_on
    from tickets.ticket_dependencies d
    join tickets.tickets dependency on dependency.id = d.depends_on_ticket_id
    where d.session_id = :session_id
    group by d.ticket_id
)
select row(t.id, t.session_id, t.summary, t.description, t.issue_type, t.priority,
           t.story_points, t.jira_key, t.position, t.created_at, t.updated_at) as ticket,
       coalesce(needs.depends_on, '{}') as depends_on
from keys
join tickets.tickets t on t.id = keys.ticket_id
left join needs on needs.ticket_id = t.id
order by keys.highest, keys.hops, t.position, t.id;

-- name: insert_attachment :one
-- The ticket's one attachment; the ticket must be of the same session.
with session as materialized (
    select s.id from tickets.sessions s where s.id = :session_id for no key update
)
insert into tickets.attachments (session_id, ticket_id, filename, content_type, file_path)
select :session_id::uuid, :ticket_id::uuid, :filename::text, :content_type::text,
       :file_path::text
from (select count(*) from session) as locked
returning id, session_id, ticket_id, filename, content_type, file_path, created_at;

-- name: attachment_of_ticket :one
select id, session_id, ticket_id, filename, content_type, file_path, created_at
from tickets.attachments
where ticket_id = :ticket_id;

-- name: delete_attachment :execrows
with session as materialized (
    select s.id from tickets.sessions s
    where s.id = (select a.session_id from tickets.attachments a where a.id = :id)
    for no key update
)
delete from tickets.attachments a
using session
where a.id = :id and a.session_id = session.id;
