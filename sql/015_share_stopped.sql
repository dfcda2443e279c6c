-- 015_share_stopped.sql: a finished download whose sharing was stopped
-- when it reached its share limits (or by hand): its file is no longer
-- offered to peers; /api/v2 reports it stoppedUP. Resuming it shares it
-- again. Documented in docs/schema.md.
ALTER TABLE downloads
    ADD COLUMN share_stopped boolean NOT NULL DEFAULT false;
