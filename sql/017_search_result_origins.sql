-- 017_search_result_origins.sql: where each search result came from:
-- 'server' (the connected server, over TCP) and/or 'udp' (another server's
-- answer to the global search over UDP), later 'kad'. The daemon writes
-- the whole set each time a result changes. Documented in docs/schema.md.
ALTER TABLE search_results ADD COLUMN origins text[] NOT NULL DEFAULT '{}';
