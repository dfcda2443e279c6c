-- 008_shared_files.sql: the files the daemon shares (complete files in its
-- shared directories and incoming directories), with their hashes and
-- what peers asked of them. Replaced by the daemon after each change.
CREATE TABLE shared_files (
    node            text NOT NULL,
    hash            char(32) NOT NULL CHECK (hash ~ '^[0-9a-f]{32}$'),
    path            text NOT NULL,
    name            text NOT NULL,
    size            bigint NOT NULL CHECK (size >= 0),
    aich            text NOT NULL DEFAULT '',         -- AICH root, base32
    modified_at     timestamptz,
    uploaded_bytes  bigint NOT NULL DEFAULT 0,
    requests        integer NOT NULL DEFAULT 0,       -- file requests from peers
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, path)
);
CREATE INDEX shared_files_hash_idx ON shared_files (node, hash);
-- The reporting role (006) does not read this table.
