-- 007_status_lag.sql: how far the daemon's database writer is behind, in
-- daemon_status (written with the heartbeat).
ALTER TABLE daemon_status ADD COLUMN db_queued integer NOT NULL DEFAULT 0;   -- jobs waiting
ALTER TABLE daemon_status ADD COLUMN db_lag_ms bigint NOT NULL DEFAULT 0;    -- age of the oldest
ALTER TABLE daemon_status ADD COLUMN db_dropped bigint NOT NULL DEFAULT 0;   -- jobs dropped (queue full)
