-- 030_rollups_time_covering.sql: the rollups by resolution and time (018)
-- with the columns the charts of /api/metrics add up, so that the
-- all-nodes charts of 7 and 30 days are an index-only scan: their 2,000
-- rows lie on as many heap pages (the four resolutions are interleaved),
-- which the plain index made a bitmap heap scan of 15-20 ms. Replaces
-- transfer_rollups_time_idx. Documented in docs/schema.md.
CREATE INDEX transfer_rollups_time_cover_idx ON transfer_rollups (resolution_s, bucket_start)
    INCLUDE (node, dl_bytes, ul_bytes, dl_peak, ul_peak);
DROP INDEX transfer_rollups_time_idx;
