-- 013_download_btih.sql: the BitTorrent info-hash a download was added
-- with, when its magnet carried one beside its eD2K hash (xt=urn:btih: and
-- xt=urn:ed2k:). /api/v2 lists such a download under it, so a qBittorrent
-- client finds the download under the hash it sent; NULL for the others,
-- which keep the padded MD4 (hash || '00000000'). The daemon gives a btih
-- to one download at a time; the index is not unique because a deleted
-- download's row may still be there when the next one's is written.
-- Documented in docs/schema.md.
ALTER TABLE downloads ADD COLUMN btih text CHECK (btih ~ '^[0-9a-f]{40}$');
CREATE INDEX downloads_btih_idx ON downloads (node, btih) WHERE btih IS NOT NULL;
