-- 013_sync_maindata.sql: the states sync/maindata answered, so that any
-- FastCGI process can answer a client's rid with what changed since (the
-- processes share nothing else). Written by cgi-bin/qbit/sync.c alone,
-- under a per-node advisory lock; documented in docs/schema.md and
-- docs/qbittorrent-api.md.

-- The rids, shared by every node and process; qBittorrent's rid is an int.
CREATE SEQUENCE sync_rid_seq AS integer;

-- sync_rids: one row per answer: its rid and the small parts of the state
-- it gave (categories, tags, server state as JSON texts); the torrents are
-- in sync_torrents, rendered when the answer's download_changes generation
-- was `generation`, at `rendered_at`. A few dozen recent rows per node are
-- kept.
CREATE TABLE sync_rids (
    rid             integer PRIMARY KEY,
    node            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    categories      json NOT NULL,
    tags            json NOT NULL,
    server_state    json NOT NULL,
    generation      bigint NOT NULL,
    rendered_at     timestamptz NOT NULL
);
CREATE INDEX sync_rids_node_idx ON sync_rids (node, rid);

-- sync_torrents: the versions of each torrent's JSON: a version is in
-- force for the rids from_rid <= rid < to_rid (to_rid NULL: still in
-- force). Its body (json keeps the text as written) is the whole JSON when
-- base_rid = from_rid, otherwise the members in which it differs from the
-- whole version (node, hash, base_rid): a torrent that changes every second
-- writes its few changed fields, not its 1.3 kB. fp is the fingerprint
-- that tells whether a new rendering is a new version
-- (cgi-bin/qbit/syncdiff.h).
CREATE TABLE sync_torrents (
    node            text NOT NULL,
    hash            text NOT NULL,
    from_rid        integer NOT NULL,
    to_rid          integer,
    fp              text NOT NULL,
    base_rid        integer NOT NULL,
    body            json NOT NULL,
    PRIMARY KEY (node, hash, from_rid)
);
CREATE INDEX sync_torrents_to_idx ON sync_torrents (node, to_rid);
