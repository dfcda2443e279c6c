-- 032_download_change_log.sql: which downloads rows changed since a
-- reader last looked, so a FastCGI process keeps its copy of the list
-- (cgi-bin/qbit/infomodel.h) by fetching those rows alone.
--
-- downloads.changed_xid: the transaction that last inserted or updated the
-- row. A reader notes pg_snapshot_xmin(pg_current_snapshot()) in a
-- statement before it reads; every change it did not see then was made by
-- a transaction at or above that mark (all older ones had ended), so the
-- next time it reads the rows with changed_xid >= the mark.
ALTER TABLE downloads ADD COLUMN changed_xid xid8;
CREATE INDEX downloads_changed_idx ON downloads (node, changed_xid);

CREATE FUNCTION muleteer_download_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END $$;

CREATE TRIGGER downloads_stamp BEFORE INSERT OR UPDATE ON downloads
    FOR EACH ROW EXECUTE FUNCTION muleteer_download_stamp();

-- download_gone: the rows deleted, by the same mark. Kept an hour: a
-- reader that has not looked for longer reads every row again (the
-- programs do so after 30 minutes).
CREATE TABLE download_gone (
    node            text NOT NULL,
    hash            text NOT NULL,
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    gone_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX download_gone_idx ON download_gone (node, xid);

CREATE FUNCTION muleteer_download_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM download_gone WHERE gone_at < now() - interval '1 hour';
    INSERT INTO download_gone (node, hash) SELECT node, hash FROM gone_old;
    RETURN NULL;
END $$;

CREATE TRIGGER downloads_gone AFTER DELETE ON downloads
    REFERENCING OLD TABLE AS gone_old
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_download_gone();
