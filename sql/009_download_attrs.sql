-- 009_download_attrs.sql: what qBittorrent clients set on a download and
-- read back: its tags, share limits and force-start flag, and the time of
-- its last transfer. Finished downloads keep their rows (state completed,
-- or missing once the file is gone) until they are removed
-- (daemon/finished.c). Documented in docs/schema.md.
ALTER TABLE downloads
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN ratio_limit double precision NOT NULL DEFAULT -2
        CHECK (ratio_limit IN (-2, -1) OR ratio_limit BETWEEN 0 AND 9998),
    ADD COLUMN seeding_time_limit integer NOT NULL DEFAULT -2
        CHECK (seeding_time_limit IN (-2, -1) OR seeding_time_limit BETWEEN 0 AND 525600),
    ADD COLUMN force_start boolean NOT NULL DEFAULT false,
    ADD COLUMN last_activity timestamptz;  -- last byte in or out; NULL: never

-- report_active_downloads (006) lists the downloads in progress: a finished
-- download whose file went missing is not one either. Same columns, so
-- muleteer_report keeps exactly the access it had.
CREATE OR REPLACE VIEW report_active_downloads AS
SELECT node, hash, name, category, state, priority, size, done_bytes,
       greatest(size - done_bytes, 0) AS remaining_bytes,
       round(done_bytes::numeric / size, 4) AS progress,
       dl_speed, ul_speed, sources, complete_sources, transferring_sources,
       CASE WHEN dl_speed > 0 THEN greatest(size - done_bytes, 0) / dl_speed END AS eta_s,
       added_at, updated_at, error
  FROM downloads
 WHERE state NOT IN ('completed', 'missing');
