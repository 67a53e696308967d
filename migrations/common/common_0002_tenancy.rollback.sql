-- squawk-ignore-file ban-drop-function, require-lock-timeout, require-statement-timeout -- a rollback removes what its migration made; dropping a function locks no table
-- The role stays: roles are cluster-wide, and other databases on the server may use it.
drop function public.tether_tenants();
