-- depends: common_0001_extensions
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- a role and a new function lock no table
-- Tenancy (SPEC "Tenancy"): the role repositories run as inside `db.tenant(...)`, and
-- the one function every domain's row-level security policies read the tenants from.

-- NOLOGIN, not an owner, no BYPASSRLS: a login role reaches it only by SET ROLE.
-- Roles are cluster-wide: several databases on one server (test copies, templates
-- migrated side by side) share it, so a concurrent creation is not an error.
do $$
begin
    if not exists (select from pg_roles where rolname = 'tether_service') then
        create role tether_service nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

-- The migrating role must be able to `SET ROLE tether_service` (a superuser always can;
-- since PostgreSQL 16 a CREATEROLE creator only administers the roles it creates).
do $$
begin
    if not (select rolsuper from pg_roles where rolname = current_user)
       and not pg_has_role(current_user, 'tether_service', 'SET') then
        grant tether_service to current_user with set true, inherit false;
    end if;
end
$$;

-- The tenants a transaction is scoped to: `set_config('tether.tenants', 'k1,k2', true)`.
-- Unset or empty: NULL, so `key = any (...)` is never true and no tenant row is visible
-- (fail closed). STABLE, read once per statement by policies as `(select ...)`.
create function public.tether_tenants() returns text[]
    language sql stable parallel safe
    set search_path = pg_catalog
    return string_to_array(nullif(current_setting('tether.tenants', true), ''), ',');
