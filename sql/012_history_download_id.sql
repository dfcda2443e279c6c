-- 012_history_download_id.sql: a history row belongs to one download's
-- life. Each download gets an id when it is added (kept in its part file
-- and its finished record); its events name it, and the row is found by
-- it instead of by "the latest row of this hash", so two downloads of one
-- file (re-added after a deletion, or after the temporary directory
-- changed) never share a row. Rows written before this migration have no
-- id: the first event that names an id adopts the latest such row of its
-- hash. Documented in docs/schema.md.
ALTER TABLE history ADD COLUMN download_id text
    CHECK (download_id ~ '^[0-9a-f]{32}$');
CREATE UNIQUE INDEX history_download_id_idx ON history (node, download_id)
    WHERE download_id IS NOT NULL;
