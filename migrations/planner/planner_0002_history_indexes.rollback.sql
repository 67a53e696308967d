-- Runs outside a transaction, as its migration does (transactional: false there).
set lock_timeout = '5s';
set statement_timeout = '30min';

drop index concurrently if exists planner.feedback_user_id_created_at_id_idx;
drop index concurrently if exists planner.plans_user_id_id_idx;

reset statement_timeout;
reset lock_timeout;
