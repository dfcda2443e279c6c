-- 004_download_states.sql: a download can be stopped (qBittorrent's
-- stoppedDL), which 001 did not allow in downloads.state.
ALTER TABLE downloads DROP CONSTRAINT downloads_state_check;
ALTER TABLE downloads ADD CONSTRAINT downloads_state_check CHECK (state IN ('queued',
    'downloading', 'stalled', 'paused', 'stopped', 'checking', 'moving', 'completed', 'error',
    'missing'));
