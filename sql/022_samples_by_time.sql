-- 022_samples_by_time.sql: the raw samples by time, for /api/metrics'
-- 24-hour speed chart of all nodes (cgi-bin/metrics/query.c), which the
-- primary key (node, sampled_at) cannot serve: without this index it reads
-- every sample kept. It carries the columns that chart adds up, so that
-- the scan can be index-only. Documented in docs/schema.md.
CREATE INDEX transfer_samples_time_idx ON transfer_samples (sampled_at)
    INCLUDE (interval_ms, dl_rate, ul_rate);
