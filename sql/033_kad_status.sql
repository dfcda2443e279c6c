-- 033_kad_status.sql: the Kad node's state and contact count in
-- daemon_status (written with the heartbeat).
ALTER TABLE daemon_status ADD COLUMN kad_state text NOT NULL DEFAULT 'off';  -- off, connecting, connected
ALTER TABLE daemon_status ADD COLUMN kad_contacts integer NOT NULL DEFAULT 0; -- routing table size
