-- squawk-ignore-file ban-drop-extension, require-lock-timeout, require-statement-timeout -- a rollback removes what its migration made, on purpose
drop extension if exists vector;
