-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- altering a function locks no table
alter function public.tether_tenants() set search_path = pg_catalog;
