-- 001_init.sql: the first schema. Daemon liveness, categories, live
-- downloads, download history and transfer samples. Every table written
-- by a daemon carries "node" (its node_name) so several daemons can share
-- one database. Documented in docs/schema.md.

CREATE TABLE daemon_status (
    node            text PRIMARY KEY,
    version         text NOT NULL,
    pid             integer NOT NULL,
    started_at      timestamptz NOT NULL,
    heartbeat       timestamptz NOT NULL,
    stopped_at      timestamptz,           -- set on clean shutdown, NULL while running
    tcp_port        integer NOT NULL,
    udp_port        integer NOT NULL,
    control_socket  text NOT NULL
);

CREATE TABLE categories (
    node            text NOT NULL,
    name            text NOT NULL CHECK (name <> '' AND length(name) <= 255),
    incoming_path   text NOT NULL DEFAULT '',
    priority        smallint NOT NULL DEFAULT 0,
    colour          integer NOT NULL DEFAULT 0 CHECK (colour BETWEEN 0 AND 16777215),
    comment         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, name)
);

CREATE TABLE downloads (
    node            text NOT NULL,
    hash            text NOT NULL CHECK (hash ~ '^[0-9a-f]{32}$'),
    name            text NOT NULL,
    size            bigint NOT NULL CHECK (size > 0),
    category        text,                  -- NULL: uncategorised
    priority        smallint NOT NULL DEFAULT 0,
    state           text NOT NULL CHECK (state IN ('queued', 'downloading', 'stalled',
                        'paused', 'checking', 'moving', 'completed', 'error', 'missing')),
    done_bytes      bigint NOT NULL DEFAULT 0 CHECK (done_bytes >= 0),
    verified_bytes  bigint NOT NULL DEFAULT 0 CHECK (verified_bytes >= 0),
    uploaded_bytes  bigint NOT NULL DEFAULT 0 CHECK (uploaded_bytes >= 0),
    dl_speed        bigint NOT NULL DEFAULT 0,  -- bytes/s
    ul_speed        bigint NOT NULL DEFAULT 0,
    sources         integer NOT NULL DEFAULT 0,
    complete_sources integer NOT NULL DEFAULT 0,
    transferring_sources integer NOT NULL DEFAULT 0,
    added_at        timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    save_path       text NOT NULL DEFAULT '',
    content_path    text NOT NULL DEFAULT '',
    error           text,
    added_by        text NOT NULL DEFAULT '',   -- web user, API client login, 'cli', 'peer-link'
    added_via       text NOT NULL DEFAULT '',   -- 'api-v2', 'native', 'cli'
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, hash)
);
CREATE INDEX downloads_category_idx ON downloads (node, category);

CREATE TABLE history (
    id              bigserial PRIMARY KEY,
    node            text NOT NULL,
    hash            text NOT NULL CHECK (hash ~ '^[0-9a-f]{32}$'),
    name            text NOT NULL,
    size            bigint NOT NULL CHECK (size > 0),
    category        text,
    status          text NOT NULL CHECK (status IN ('downloading', 'completed', 'stopped',
                        'deleted', 'failed')),
    started_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    deleted_at      timestamptz,
    downloaded_bytes bigint NOT NULL DEFAULT 0 CHECK (downloaded_bytes >= 0),
    uploaded_bytes  bigint NOT NULL DEFAULT 0 CHECK (uploaded_bytes >= 0),
    added_by        text NOT NULL DEFAULT '',
    added_via       text NOT NULL DEFAULT ''
);
CREATE INDEX history_started_idx ON history (started_at);
CREATE INDEX history_node_hash_idx ON history (node, hash);

CREATE TABLE transfer_samples (
    node            text NOT NULL,
    sampled_at      timestamptz NOT NULL,
    interval_ms     integer NOT NULL CHECK (interval_ms > 0),
    dl_rate         bigint NOT NULL CHECK (dl_rate >= 0),   -- bytes/s over the interval
    ul_rate         bigint NOT NULL CHECK (ul_rate >= 0),
    dl_total        bigint NOT NULL CHECK (dl_total >= 0),  -- cumulative, never decreases
    ul_total        bigint NOT NULL CHECK (ul_total >= 0),
    active_transfers integer NOT NULL DEFAULT 0,
    connected_sources integer NOT NULL DEFAULT 0,
    PRIMARY KEY (node, sampled_at)
);
