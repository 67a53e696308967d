-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- altering a function locks no table
alter function tickets.check_dependency_cycles() security invoker;
