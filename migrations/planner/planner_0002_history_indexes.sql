-- depends: planner_0001_schema
-- transactional: false
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction -- yoyo runs this file outside a transaction (transactional: false above), as CONCURRENTLY needs
-- Reads that cost the same for a user with a long history as for a new one, and
-- whatever other users write after them:
-- * plans_user_id_id_idx: a user's plans, newest first. The latest generation
--   (the one holding the user's newest plan) is its first entry, wherever other
--   users' plans fall, and list_generations walks it a page at a time.
-- * feedback_user_id_created_at_id_idx: a user's feedback, newest first, read
--   from the top by latest_feedback instead of sorted.
-- Built CONCURRENTLY, so writes go on meanwhile. A build that fails leaves an
-- INVALID index behind: the next attempt drops it first.
set lock_timeout = '5s';
set statement_timeout = '30min';

drop index concurrently if exists planner.plans_user_id_id_idx;
create index concurrently if not exists plans_user_id_id_idx
    on planner.plans (user_id, id);

drop index concurrently if exists planner.feedback_user_id_created_at_id_idx;
create index concurrently if not exists feedback_user_id_created_at_id_idx
    on planner.feedback (user_id, created_at, id);

reset statement_timeout;
reset lock_timeout;
