-- depends: tickets_0003_token_versions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- altering a function locks no table
-- The cycle check walks a session's dependency graph as its owner (the migrating role),
-- not as the caller. Scoped (tether_service), every edge the walk visited went through
-- the tenant policy's filter, and adding a dependency to a 10,000-edge graph took 1.6x
-- the owner's time (docs/tenancy.md). The walk follows edges only from the new edges'
-- tickets, which are of one session (the composite foreign keys), and a trigger function
-- cannot be called by anyone: running it as its owner shows the caller nothing.
alter function tickets.check_dependency_cycles() security definer;
