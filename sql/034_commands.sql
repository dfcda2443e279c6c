-- 034_commands.sql: the command relay between nodes (docs/cluster.md). A
-- caller inserts a row for the target node; that node's daemon claims its
-- rows in id order, runs each and writes the answer back. NOTIFY on the
-- channel muleteer_commands (payload: the node) when a row is queued, and
-- on muleteer_command_done (payload: the id) when it is answered.
CREATE TABLE commands (
    id          bigserial PRIMARY KEY,
    client_key  text NOT NULL UNIQUE CHECK (length(client_key) BETWEEN 1 AND 200),
    node        text NOT NULL,
    command     text NOT NULL CHECK (command <> ''),
    args        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(args) = 'object'),
    state       text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'claimed', 'done', 'failed', 'expired')),
    result      jsonb,                 -- the command's answer (done)
    error       jsonb,                 -- {code, message} (failed, expired)
    claimed_by  text,                  -- the claiming daemon's run (pid, start)
    created_at  timestamptz NOT NULL DEFAULT now(),
    claimed_at  timestamptz,
    done_at     timestamptz,
    deadline    timestamptz NOT NULL   -- not started after this: expired
);
-- a node's queue, in order
CREATE INDEX commands_queued ON commands (node, id) WHERE state = 'queued';
-- retention of answered rows
CREATE INDEX commands_done_at ON commands (done_at) WHERE done_at IS NOT NULL;

CREATE FUNCTION commands_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('muleteer_commands', NEW.node);
    ELSIF NEW.state IN ('done', 'failed', 'expired') AND OLD.state IS DISTINCT FROM NEW.state THEN
        PERFORM pg_notify('muleteer_command_done', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER commands_notify AFTER INSERT OR UPDATE OF state ON commands
    FOR EACH ROW EXECUTE FUNCTION commands_notify();

-- The heartbeat's period, so that a caller knows when a node's heartbeat
-- is stale (three periods without one: the node is offline).
ALTER TABLE daemon_status ADD COLUMN status_interval integer NOT NULL DEFAULT 5;
