drop extension if exists vector;
