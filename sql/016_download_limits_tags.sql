-- 016_download_limits_tags.sql: per-download rate limits (qBittorrent's
-- dl_limit / up_limit, enforced by the daemon) and the node's tag list,
-- which qBittorrent keeps apart from the downloads (torrents/createTags).
-- Documented in docs/schema.md.
ALTER TABLE downloads
    ADD COLUMN dl_limit bigint NOT NULL DEFAULT 0 CHECK (dl_limit BETWEEN 0 AND 2147483647),
    ADD COLUMN up_limit bigint NOT NULL DEFAULT 0 CHECK (up_limit BETWEEN 0 AND 2147483647);

-- tags: the tags created on the node (daemon/transfer/tags.c keeps them in
-- $state_dir/tags.json); the tags in use on downloads need not be here.
CREATE TABLE tags (
    node            text NOT NULL,
    name            text NOT NULL CHECK (name <> '' AND octet_length(name) <= 64),
    PRIMARY KEY (node, name)
);
