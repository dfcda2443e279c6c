-- 025_search_results_recent.sql: an index on the newest search results
-- of a node, for the Torznab feed of a request without words (the Arrs'
-- RSS sync and Test button), which reads the newest 5,000 results instead
-- of sorting every result kept (150,000 rows: 160 ms without it, 8 ms
-- with it). Documented in docs/schema.md.
CREATE INDEX search_results_recent ON search_results (node, first_seen DESC);
