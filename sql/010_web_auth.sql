-- 010_web_auth.sql: web sessions and failed-login counts, written by the
-- FastCGI programs (lib/http/auth.c) so that every process sees them.
-- Both hold secrets or their traces: no grant to muleteer_report (006) or
-- PUBLIC, ever. Documented in docs/schema.md.

-- One row per logged-in session. The id itself (the SID cookie) is never
-- stored: sid_hash is the lower-case hex SHA-256 of it. expires_at slides
-- forward as the session is used.
CREATE TABLE web_sessions (
    sid_hash     text PRIMARY KEY CHECK (sid_hash ~ '^[0-9a-f]{64}$'),
    username     text NOT NULL,
    remote_addr  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- Failed logins per client address (REMOTE_ADDR as the web server gave
-- it). banned_until is set when failures reach web_max_auth_failures.
CREATE TABLE auth_failures (
    remote_addr   text PRIMARY KEY,
    failures      integer NOT NULL CHECK (failures > 0),
    last_failure  timestamptz NOT NULL DEFAULT now(),
    banned_until  timestamptz
);

REVOKE ALL ON web_sessions, auth_failures FROM PUBLIC;
