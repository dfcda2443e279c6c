-- 024_history_counts.sql: the number of history rows per node and
-- status, kept by statement-level triggers on history, so that
-- /api/history's unfiltered total, /api/history/all and
-- /api/history/stats never count a million rows (a parallel scan of
-- 100-200 ms) to answer. Each INSERT, UPDATE or DELETE statement on
-- history adds its transition tables' rows, grouped, to the counts;
-- TRUNCATE empties them. Documented in docs/schema.md.
CREATE TABLE history_counts (
    node            text NOT NULL,
    status          text NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (node, status)
);

INSERT INTO history_counts (node, status, n)
    SELECT node, status, count(*) FROM history GROUP BY node, status;

-- history_counts_apply: adds the rows of one statement's transition tables
-- (new: +1 each, old: -1 each); counts reaching 0 stay as 0.
CREATE FUNCTION history_counts_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO history_counts AS c (node, status, n)
            SELECT node, status, count(*) FROM new_rows GROUP BY node, status
            ON CONFLICT (node, status) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE history_counts c SET n = c.n - d.k
          FROM (SELECT node, status, count(*) AS k FROM old_rows GROUP BY node, status) d
         WHERE c.node = d.node AND c.status = d.status;
    ELSE
        INSERT INTO history_counts AS c (node, status, n)
            SELECT node, status, sum(k) FROM (
                SELECT node, status, 1 AS k FROM new_rows
                UNION ALL
                SELECT node, status, -1 FROM old_rows) d
             GROUP BY node, status HAVING sum(k) <> 0
            ON CONFLICT (node, status) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION history_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM history_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER history_counts_insert AFTER INSERT ON history
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION history_counts_apply();
CREATE TRIGGER history_counts_delete AFTER DELETE ON history
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION history_counts_apply();
CREATE TRIGGER history_counts_update AFTER UPDATE ON history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION history_counts_apply();
CREATE TRIGGER history_counts_truncate AFTER TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION history_counts_truncate();
