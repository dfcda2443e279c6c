-- 019_sync_maindata.sql: the states sync/maindata answered, so that any
-- FastCGI process can answer a client's rid with what changed since (the
-- processes share nothing else). Written by cgi-bin/qbit/sync.c alone,
-- under a per-node advisory lock; documented in docs/schema.md and
-- docs/qbittorrent-api.md.

-- The answers' order, shared by every node and process. The rid a client
-- sees is this number within qBittorrent's int: 1 to 2147483647, then 1
-- again; the order of versions always follows seq.
CREATE SEQUENCE sync_seq;

-- sync_rids: one row per answer: its seq and rid and the small parts of
-- the state it gave (categories, tags, server state as JSON texts); the
-- torrents are in sync_torrents, rendered when the answer's
-- download_changes generation was `generation`, at `rendered_at`. A few
-- dozen recent rows per node are kept.
CREATE TABLE sync_rids (
    seq             bigint PRIMARY KEY,
    rid             integer NOT NULL,
    node            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    categories      json NOT NULL,
    tags            json NOT NULL,
    server_state    json NOT NULL,
    generation      bigint NOT NULL,
    rendered_at     timestamptz NOT NULL
);
CREATE INDEX sync_rids_node_idx ON sync_rids (node, seq);
CREATE INDEX sync_rids_rid_idx ON sync_rids (node, rid);

-- sync_torrents: the versions of each torrent's JSON: a version is in
-- force for the answers from_seq <= seq < to_seq (to_seq NULL: still in
-- force). Its body (json keeps the text as written) is the whole JSON when
-- base_seq = from_seq, otherwise the members in which it differs from the
-- whole version (node, hash, base_seq): a torrent that changes every second
-- writes its few changed fields, not its 1.3 kB. fp is the fingerprint
-- that tells whether a new rendering is a new version
-- (cgi-bin/qbit/syncdiff.h).
CREATE TABLE sync_torrents (
    node            text NOT NULL,
    hash            text NOT NULL,
    from_seq        bigint NOT NULL,
    to_seq          bigint,
    fp              text NOT NULL,
    base_seq        bigint NOT NULL,
    body            json NOT NULL,
    PRIMARY KEY (node, hash, from_seq)
);
CREATE INDEX sync_torrents_to_idx ON sync_torrents (node, to_seq);
