-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- creating an extension locks no table that exists
-- Extensions every domain may rely on. pgvector's `vector` type lives in public,
-- where pgvector's client codec looks it up.
create extension if not exists vector with schema public;
