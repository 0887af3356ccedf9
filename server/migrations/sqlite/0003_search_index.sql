-- The users list's index also carries the search key, so that a search with few matches
-- scans the index alone instead of looking up every user row in list order: a search that
-- matches nobody among 100,000 users takes about 23 ms instead of about 200 ms on SQLite.
DROP INDEX users_by_sort_key;
CREATE INDEX users_by_sort_key ON users (sort_key, username, search_key);
