-- 027_metrics_changes.sql: a change counter per node for the tables the
-- charts of /api/metrics read (transfer_samples, transfer_rollups), kept
-- by statement-level triggers, so that cgi-bin/metrics can keep a
-- rendered chart and send it again while nothing it was made of has
-- changed. The counter row is written in the writer's own transaction:
-- a reader sees the new generation only with the rows that made it.
-- Documented in docs/schema.md.
CREATE TABLE metrics_changes (
    node            text PRIMARY KEY,
    generation      bigint NOT NULL DEFAULT 1,
    changed_at      timestamptz NOT NULL DEFAULT now()
);

-- muleteer_metrics_changed: the nodes of one statement's transition table
-- get their generation raised (in the order of their names, so that two
-- statements over several nodes never wait on each other in a cycle).
CREATE FUNCTION muleteer_metrics_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO metrics_changes AS c (node)
            SELECT DISTINCT node FROM changed_old ORDER BY node
        ON CONFLICT (node) DO UPDATE SET generation = c.generation + 1, changed_at = now();
    ELSE
        INSERT INTO metrics_changes AS c (node)
            SELECT DISTINCT node FROM changed_new ORDER BY node
        ON CONFLICT (node) DO UPDATE SET generation = c.generation + 1, changed_at = now();
    END IF;
    RETURN NULL;
END $$;

-- muleteer_metrics_truncated: TRUNCATE has no transition table: every node.
CREATE FUNCTION muleteer_metrics_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE metrics_changes SET generation = generation + 1, changed_at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER transfer_samples_changed_ins AFTER INSERT ON transfer_samples
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_changed();
CREATE TRIGGER transfer_samples_changed_upd AFTER UPDATE ON transfer_samples
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_changed();
CREATE TRIGGER transfer_samples_changed_del AFTER DELETE ON transfer_samples
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_changed();
CREATE TRIGGER transfer_samples_changed_trunc AFTER TRUNCATE ON transfer_samples
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_truncated();
CREATE TRIGGER transfer_rollups_changed_ins AFTER INSERT ON transfer_rollups
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_changed();
CREATE TRIGGER transfer_rollups_changed_upd AFTER UPDATE ON transfer_rollups
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_changed();
CREATE TRIGGER transfer_rollups_changed_del AFTER DELETE ON transfer_rollups
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_changed();
CREATE TRIGGER transfer_rollups_changed_trunc AFTER TRUNCATE ON transfer_rollups
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_metrics_truncated();

INSERT INTO metrics_changes (node)
    SELECT node FROM transfer_samples GROUP BY node
    UNION SELECT node FROM transfer_rollups GROUP BY node;
