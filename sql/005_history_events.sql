-- 005_history_events.sql: the ids of the history events the daemon has
-- applied, so that an event replayed from its journal after a crash or an
-- outage changes history exactly once (daemon/history.c).
CREATE TABLE history_events (
    node            text NOT NULL,
    event_id        text NOT NULL,          -- "<run start, unix ms>-<sequence>"
    kind            text NOT NULL CHECK (kind IN ('started', 'stopped', 'resumed', 'completed',
                        'deleted', 'failed')),
    applied_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, event_id)
);
