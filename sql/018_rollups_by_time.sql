-- 018_rollups_by_time.sql: the rollups by resolution and time, for the
-- all-nodes chart (report_chart with p_node NULL), which cannot use the
-- primary key (node, resolution_s, bucket_start): without this index it
-- reads every node's rollups of every resolution. Documented in
-- docs/schema.md.
CREATE INDEX transfer_rollups_time_idx ON transfer_rollups (resolution_s, bucket_start);
