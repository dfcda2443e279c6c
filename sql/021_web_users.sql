-- 021_web_users.sql: the web API's user accounts besides the admin of
-- web_password (aMuTorrent 3.8's users and capabilities), and a lifetime
-- per session (24 h, or 30 days with "remember me"). Written by the
-- FastCGI programs and `muleteer user`; documented in docs/schema.md and
-- docs/web-api.md. Holds password hashes: no grant to muleteer_report
-- (006) or PUBLIC, ever.

-- One row per account. password is a "pbkdf2-sha256$..." string
-- (lib/webauth/password.h). An admin has every capability whatever the
-- column says; capabilities holds names of lib/webauth/users.h's list.
CREATE TABLE web_users (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL CHECK (username ~ '^[A-Za-z0-9_]{3,32}$'),
    password       text NOT NULL,
    is_admin       boolean NOT NULL DEFAULT false,
    capabilities   text[] NOT NULL DEFAULT '{}',
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    -- the account's own API key (X-API-Key, Bearer, Torznab's apikey):
    -- its lower-case hex SHA-256, never the key; NULL: none
    api_key_hash   text UNIQUE CHECK (api_key_hash ~ '^[0-9a-f]{64}$')
);
-- Names are unique without regard to case, as aMuTorrent's are.
CREATE UNIQUE INDEX web_users_username_idx ON web_users (lower(username));

-- A session's own lifetime in seconds (NULL: web_session_timeout, as
-- /api/v2 sessions have), and the account it belongs to (NULL: the
-- admin of web_password). A deleted account's sessions go with it.
ALTER TABLE web_sessions
    ADD COLUMN lifetime integer CHECK (lifetime > 0),
    ADD COLUMN user_id bigint REFERENCES web_users (id) ON DELETE CASCADE;
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id) WHERE user_id IS NOT NULL;

REVOKE ALL ON web_users FROM PUBLIC;
