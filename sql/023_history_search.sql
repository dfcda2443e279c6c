-- 023_history_search.sql: indexes for /api/history (cgi-bin/history):
-- its default page (this node's rows, newest first, ties by id) and its
-- case-insensitive substring search over the file name, the hash and the
-- user name (ILIKE '%...%'), fast at a million rows. The search uses a
-- trigram index of pg_trgm, which Debian's postgresql-NN package ships
-- (a trusted extension: the database's owner may create it). Where it is
-- not installed the search still works, by scanning; the migration does
-- not fail. Documented in docs/schema.md and docs/web-api.md.
CREATE INDEX history_node_started_idx ON history (node, started_at, id);

DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%): /api/history searches by scanning', SQLERRM;
        RETURN;
    END;
    -- one trigram index over the three columns joined by a newline, which
    -- a search never holds (cgi-bin/history/query.c): one index scan for
    -- the three, where three ORed scans cost more than the planner's
    -- sequential scan at a million rows
    EXECUTE 'CREATE INDEX history_search_trgm_idx ON history USING gin'
            ' ((name || E''\n'' || hash || E''\n'' || added_by) gin_trgm_ops)';
END
$$;
