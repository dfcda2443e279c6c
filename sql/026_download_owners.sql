-- 026_download_owners.sql: what limits a web account without
-- view_all_downloads (or edit_all_downloads) to the downloads it added,
-- as aMuTorrent 3.8 limits its users: indexes for its own lists in
-- downloads and history (added_by), and who added the download of each
-- version sync/maindata stored. Read by cgi-bin/qbit, cgi-bin/history
-- and cgi-bin/config; documented in docs/schema.md and docs/web-api.md.
CREATE INDEX downloads_added_by_idx ON downloads (node, added_by);
CREATE INDEX history_added_by_idx ON history (node, added_by, started_at, id);

-- The versions stored so far do not say whose they are: they go, and
-- every client's next poll is answered in full (its rid is no longer
-- known), as after the retention.
DELETE FROM sync_torrents;
DELETE FROM sync_rids;
ALTER TABLE sync_torrents ADD COLUMN added_by text NOT NULL DEFAULT '';
