-- 020_web_state.sql: small facts the web API keeps for its users, per
-- node: lastSeenVersion (the version whose "what's new" the UI showed,
-- POST /api/version/seen). Written by cgi-bin/config; documented in
-- docs/schema.md and docs/web-api.md.
CREATE TABLE web_state (
    node            text NOT NULL,
    name            text NOT NULL CHECK (name IN ('last_seen_version')),
    value           text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, name)
);
