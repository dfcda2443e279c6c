-- 002_servers_searches.sql: the eD2K server list, what servers said, and
-- searches with their results. Written by the daemon (node = its
-- node_name); read by the HTTP programs and by hand. docs/schema.md.

CREATE TABLE servers (
    node            text NOT NULL,
    address         text NOT NULL,            -- dotted IPv4, or a host name (dynamic IP)
    port            integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    name            text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    version         text NOT NULL DEFAULT '',
    users           bigint NOT NULL DEFAULT 0,
    files           bigint NOT NULL DEFAULT 0,
    max_users       bigint NOT NULL DEFAULT 0,
    lowid_users     bigint NOT NULL DEFAULT 0,
    soft_file_limit bigint NOT NULL DEFAULT 0,  -- 0: unknown
    hard_file_limit bigint NOT NULL DEFAULT 0,
    tcp_flags       bigint NOT NULL DEFAULT 0,
    udp_flags       bigint NOT NULL DEFAULT 0,
    ping_ms         integer,                    -- NULL until a UDP status answer
    failures        integer NOT NULL DEFAULT 0, -- in a row; reset by any answer
    last_seen       timestamptz,                -- last login or status answer
    is_static       boolean NOT NULL DEFAULT false,  -- never dropped
    priority        text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
    source          text NOT NULL DEFAULT '',   -- config, server.met, link, server list, user
    connected       boolean NOT NULL DEFAULT false,
    added_at        timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, address, port)
);

CREATE TABLE server_messages (
    id              bigserial PRIMARY KEY,
    node            text NOT NULL,
    address         text NOT NULL,
    port            integer NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    level           text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    message         text NOT NULL
);
CREATE INDEX server_messages_node_time ON server_messages (node, received_at);

CREATE TABLE searches (
    node            text NOT NULL,
    id              bigint NOT NULL,            -- the daemon's search id
    expression      text NOT NULL,              -- as the user typed it
    normalized      text NOT NULL DEFAULT '',   -- as the daemon understood it
    scope           text NOT NULL CHECK (scope IN ('local', 'global')),
    state           text NOT NULL CHECK (state IN ('running', 'finished', 'stopped', 'failed')),
    error           text,
    results         integer NOT NULL DEFAULT 0,
    servers_asked   integer NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    PRIMARY KEY (node, id)
);

CREATE TABLE search_results (
    node            text NOT NULL,
    search_id       bigint NOT NULL,
    hash            char(32) NOT NULL CHECK (hash ~ '^[0-9a-f]{32}$'),
    name            text NOT NULL,
    size            bigint NOT NULL CHECK (size > 0),
    sources         integer NOT NULL DEFAULT 0,
    complete_sources integer NOT NULL DEFAULT 0,
    file_type       text,
    extension       text,
    artist          text,
    album           text,
    title           text,
    codec           text,
    length_s        integer,
    bitrate         integer,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, search_id, hash),
    FOREIGN KEY (node, search_id) REFERENCES searches (node, id) ON DELETE CASCADE
);
