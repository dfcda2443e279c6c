-- 029_history_changes.sql: a change counter per node for the history
-- table, kept by statement-level triggers, so that cgi-bin/history can
-- keep a rendered page and send it again while no history row of the node
-- has changed (a search over a million rows costs 15-25 ms in the trigram
-- index; the UI asks for the same page again and again). The counter row
-- is written in the writer's own transaction: a reader sees the new
-- generation only with the rows that made it. Documented in
-- docs/schema.md.
CREATE TABLE history_changes (
    node            text PRIMARY KEY,
    generation      bigint NOT NULL DEFAULT 1,
    changed_at      timestamptz NOT NULL DEFAULT now()
);

-- muleteer_history_changed: the nodes of one statement's transition
-- table get their generation raised, in the order of their names.
CREATE FUNCTION muleteer_history_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO history_changes AS c (node)
            SELECT DISTINCT node FROM changed_old ORDER BY node
        ON CONFLICT (node) DO UPDATE SET generation = c.generation + 1, changed_at = now();
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO history_changes AS c (node)
            SELECT node FROM changed_new UNION SELECT node FROM changed_old ORDER BY node
        ON CONFLICT (node) DO UPDATE SET generation = c.generation + 1, changed_at = now();
    ELSE
        INSERT INTO history_changes AS c (node)
            SELECT DISTINCT node FROM changed_new ORDER BY node
        ON CONFLICT (node) DO UPDATE SET generation = c.generation + 1, changed_at = now();
    END IF;
    RETURN NULL;
END $$;

-- muleteer_history_truncated: TRUNCATE has no transition table: every node.
CREATE FUNCTION muleteer_history_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE history_changes SET generation = generation + 1, changed_at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER history_changed_ins AFTER INSERT ON history
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_history_changed();
CREATE TRIGGER history_changed_upd AFTER UPDATE ON history
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_history_changed();
CREATE TRIGGER history_changed_del AFTER DELETE ON history
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_history_changed();
CREATE TRIGGER history_changed_trunc AFTER TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_history_truncated();

INSERT INTO history_changes (node) SELECT node FROM history GROUP BY node;
