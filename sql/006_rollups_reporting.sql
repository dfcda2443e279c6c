-- 006_rollups_reporting.sql: transfer rollups kept up to date as samples
-- arrive, retention pruning, the report_* views and the read-only
-- muleteer_report role. Documented in docs/reporting.md (choices and
-- example queries) and docs/schema.md.

-- muleteer_bucket_start: the start of the bucket of resolution_s seconds,
-- aligned to the UTC epoch, that holds the instant ts. Buckets are
-- (start, start + resolution_s]: a sample covers the interval that ends at
-- its sampled_at, so a sample taken exactly on a boundary belongs to the
-- bucket that ends there. Integer microseconds, so there is no rounding at
-- the edges; no date_bin, which needs PostgreSQL 14.
CREATE FUNCTION muleteer_bucket_start(ts timestamptz, resolution_s integer)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT to_timestamp((((round(extract(epoch FROM ts - timestamptz 'epoch') * 1000000)::bigint - 1)
                          / (resolution_s * 1000000::bigint)) * resolution_s)::double precision)
$$;

-- One row per node, resolution and bucket. Written only by the trigger on
-- transfer_samples (and deleted by muleteer_prune); never by hand.
CREATE TABLE transfer_rollups (
    node            text NOT NULL,
    resolution_s    integer NOT NULL CHECK (resolution_s IN (60, 900, 3600, 21600)),
    bucket_start    timestamptz NOT NULL,       -- the bucket is (bucket_start, bucket_start + resolution_s]
    dl_bytes        bigint NOT NULL DEFAULT 0,  -- bytes of the samples whose sampled_at falls in the bucket
    ul_bytes        bigint NOT NULL DEFAULT 0,
    dl_peak         bigint NOT NULL DEFAULT 0,  -- highest dl_rate of those samples, bytes/s
    ul_peak         bigint NOT NULL DEFAULT 0,
    samples         integer NOT NULL DEFAULT 0,
    covered_ms      bigint NOT NULL DEFAULT 0,  -- sum of their interval_ms
    active_max      integer NOT NULL DEFAULT 0, -- highest active_transfers
    sources_max     integer NOT NULL DEFAULT 0, -- highest connected_sources
    PRIMARY KEY (node, resolution_s, bucket_start)
) WITH (fillfactor = 80);  -- room for HOT updates of the current buckets

-- The rollup trigger: once per INSERT statement, over all the rows it
-- inserted (a transition table, so a batch of samples costs one upsert per
-- bucket, not one per row). The bytes of a sample are the growth of the
-- cumulative totals since the node's previous sample when that sample is
-- the start of this one's interval (its distance is interval_ms, within
-- 10 %) and the total did not go down; otherwise (the first sample, a
-- gap, a counter reset) rate x interval_ms. Each sample's bytes thus cover
-- its own interval only, in whatever order a statement's rows come, and go
-- to the one bucket holding sampled_at at every resolution: the sum over
-- buckets is the sum over samples. Rows skipped by ON CONFLICT DO NOTHING are not in
-- the transition table, so a sample written twice counts once.
CREATE FUNCTION muleteer_rollup_samples() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO transfer_rollups AS r (node, resolution_s, bucket_start, dl_bytes, ul_bytes,
                                       dl_peak, ul_peak, samples, covered_ms, active_max,
                                       sources_max)
    SELECT b.node, res.s, muleteer_bucket_start(b.sampled_at, res.s),
           sum(b.dl_bytes), sum(b.ul_bytes), max(b.dl_rate), max(b.ul_rate), count(*),
           sum(b.interval_ms), max(b.active_transfers), max(b.connected_sources)
      FROM (SELECT n.node, n.sampled_at, n.interval_ms, n.dl_rate, n.ul_rate,
                   n.active_transfers, n.connected_sources,
                   CASE WHEN c.contiguous AND n.dl_total >= p.dl_total
                        THEN n.dl_total - p.dl_total
                        ELSE round(n.dl_rate::numeric * n.interval_ms / 1000)::bigint END AS dl_bytes,
                   CASE WHEN c.contiguous AND n.ul_total >= p.ul_total
                        THEN n.ul_total - p.ul_total
                        ELSE round(n.ul_rate::numeric * n.interval_ms / 1000)::bigint END AS ul_bytes
              FROM new_samples n
              LEFT JOIN LATERAL (SELECT s.sampled_at, s.dl_total, s.ul_total
                                   FROM transfer_samples s
                                  WHERE s.node = n.node AND s.sampled_at < n.sampled_at
                                  ORDER BY s.sampled_at DESC
                                  LIMIT 1) p ON true
             CROSS JOIN LATERAL (SELECT p.sampled_at IS NOT NULL
                                        AND abs(extract(epoch FROM n.sampled_at - p.sampled_at) * 1000
                                                - n.interval_ms) <= n.interval_ms / 10.0
                                        AS contiguous) c) b
     CROSS JOIN (VALUES (60), (900), (3600), (21600)) AS res(s)
     GROUP BY 1, 2, 3
    ON CONFLICT (node, resolution_s, bucket_start) DO UPDATE
       SET dl_bytes = r.dl_bytes + EXCLUDED.dl_bytes,
           ul_bytes = r.ul_bytes + EXCLUDED.ul_bytes,
           dl_peak = greatest(r.dl_peak, EXCLUDED.dl_peak),
           ul_peak = greatest(r.ul_peak, EXCLUDED.ul_peak),
           samples = r.samples + EXCLUDED.samples,
           covered_ms = r.covered_ms + EXCLUDED.covered_ms,
           active_max = greatest(r.active_max, EXCLUDED.active_max),
           sources_max = greatest(r.sources_max, EXCLUDED.sources_max);
    RETURN NULL;
END
$$;

CREATE TRIGGER transfer_samples_rollup
    AFTER INSERT ON transfer_samples
    REFERENCING NEW TABLE AS new_samples
    FOR EACH STATEMENT EXECUTE FUNCTION muleteer_rollup_samples();

-- muleteer_prune: deletes what is older than each retention, for one node
-- (NULL: every node), and returns how many rows went. A NULL retention
-- keeps everything of that kind. Samples go by sampled_at; rollups when
-- their bucket ended before the cut-off (p_m1 for the 1-minute ones,
-- p_coarse for 15-minute, 1-hour and 6-hour ones); history rows that are
-- over (completed, deleted, failed) by the time they ended (deleted_at,
-- completed_at, else started_at), except those of a hash the node still
-- has as a download that is not completed (its next event would otherwise
-- find no row). The downloads table is never touched. Called by the
-- daemon's periodic job.
CREATE FUNCTION muleteer_prune(p_node text,
                               p_raw interval DEFAULT '2 days',
                               p_m1 interval DEFAULT '14 days',
                               p_coarse interval DEFAULT '400 days',
                               p_history interval DEFAULT NULL)
RETURNS TABLE (samples_deleted bigint, rollups_1m_deleted bigint,
               rollups_coarse_deleted bigint, history_deleted bigint)
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_raw < interval '0' OR p_m1 < interval '0' OR p_coarse < interval '0'
       OR p_history < interval '0' THEN
        RAISE EXCEPTION 'muleteer_prune: a retention cannot be negative';
    END IF;
    samples_deleted := 0;
    rollups_1m_deleted := 0;
    rollups_coarse_deleted := 0;
    history_deleted := 0;
    IF p_raw IS NOT NULL THEN
        DELETE FROM transfer_samples s
         WHERE (p_node IS NULL OR s.node = p_node) AND s.sampled_at < now() - p_raw;
        GET DIAGNOSTICS samples_deleted = ROW_COUNT;
    END IF;
    IF p_m1 IS NOT NULL THEN
        DELETE FROM transfer_rollups r
         WHERE (p_node IS NULL OR r.node = p_node) AND r.resolution_s = 60
           AND r.bucket_start < now() - p_m1 - interval '60 seconds';
        GET DIAGNOSTICS rollups_1m_deleted = ROW_COUNT;
    END IF;
    IF p_coarse IS NOT NULL THEN
        DELETE FROM transfer_rollups r
         WHERE (p_node IS NULL OR r.node = p_node) AND r.resolution_s IN (900, 3600, 21600)
           AND r.bucket_start < now() - p_coarse - make_interval(secs => r.resolution_s);
        GET DIAGNOSTICS rollups_coarse_deleted = ROW_COUNT;
    END IF;
    IF p_history IS NOT NULL THEN
        DELETE FROM history h
         WHERE (p_node IS NULL OR h.node = p_node)
           AND h.status IN ('completed', 'deleted', 'failed')
           AND coalesce(h.deleted_at, h.completed_at, h.started_at) < now() - p_history
           AND NOT EXISTS (SELECT 1 FROM downloads d
                            WHERE d.node = h.node AND d.hash = h.hash AND d.state <> 'completed');
        GET DIAGNOSTICS history_deleted = ROW_COUNT;
    END IF;
    RETURN NEXT;
END
$$;
REVOKE EXECUTE ON FUNCTION muleteer_prune(text, interval, interval, interval, interval) FROM PUBLIC;

-- ---------------------------------------------------------------- reports
-- Speeds are bytes/s, rounded down; days and months are those of the
-- session's TimeZone (SET TimeZone = 'Europe/Paris' before a query).

CREATE VIEW report_transfer_buckets AS
SELECT node, resolution_s, bucket_start,
       bucket_start + make_interval(secs => resolution_s) AS bucket_end,
       dl_bytes, ul_bytes,
       dl_bytes / resolution_s AS dl_avg,
       ul_bytes / resolution_s AS ul_avg,
       dl_bytes * 1000 / nullif(covered_ms, 0) AS dl_avg_covered,
       ul_bytes * 1000 / nullif(covered_ms, 0) AS ul_avg_covered,
       dl_peak, ul_peak, samples, covered_ms,
       active_max, sources_max
  FROM transfer_rollups;

-- Days and months from the 15-minute buckets, which fit the local midnight
-- of every time zone in use (offsets are multiples of 15 minutes).
CREATE VIEW report_transfer_daily AS
SELECT d.node, d.day, d.dl_bytes, d.ul_bytes,
       d.dl_bytes / l.day_s AS dl_avg,
       d.ul_bytes / l.day_s AS ul_avg,
       d.dl_bytes * 1000 / nullif(d.covered_ms, 0) AS dl_avg_covered,
       d.ul_bytes * 1000 / nullif(d.covered_ms, 0) AS ul_avg_covered,
       d.dl_peak, d.ul_peak, d.samples,
       d.covered_ms, l.day_s
  FROM (SELECT node, bucket_start::date AS day,
               sum(dl_bytes)::bigint AS dl_bytes, sum(ul_bytes)::bigint AS ul_bytes,
               max(dl_peak) AS dl_peak, max(ul_peak) AS ul_peak,
               sum(samples)::bigint AS samples, sum(covered_ms)::bigint AS covered_ms
          FROM transfer_rollups
         WHERE resolution_s = 900
         GROUP BY 1, 2) d
 CROSS JOIN LATERAL (SELECT extract(epoch FROM (d.day + 1)::timestamptz - d.day::timestamptz)::bigint
                            AS day_s) l;

CREATE VIEW report_transfer_monthly AS
SELECT m.node, m.month, m.dl_bytes, m.ul_bytes,
       m.dl_bytes / l.month_s AS dl_avg,
       m.ul_bytes / l.month_s AS ul_avg,
       m.dl_bytes * 1000 / nullif(m.covered_ms, 0) AS dl_avg_covered,
       m.ul_bytes * 1000 / nullif(m.covered_ms, 0) AS ul_avg_covered,
       m.dl_peak, m.ul_peak, m.samples,
       m.covered_ms, l.month_s
  FROM (SELECT node, date_trunc('month', bucket_start)::date AS month,
               sum(dl_bytes)::bigint AS dl_bytes, sum(ul_bytes)::bigint AS ul_bytes,
               max(dl_peak) AS dl_peak, max(ul_peak) AS ul_peak,
               sum(samples)::bigint AS samples, sum(covered_ms)::bigint AS covered_ms
          FROM transfer_rollups
         WHERE resolution_s = 900
         GROUP BY 1, 2) m
 CROSS JOIN LATERAL (SELECT extract(epoch FROM (m.month::timestamptz + interval '1 month')
                                               - m.month::timestamptz)::bigint AS month_s) l;

CREATE VIEW report_category_totals AS
SELECT node, category,
       count(*) AS downloads,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'downloading') AS downloading,
       count(*) FILTER (WHERE status = 'stopped') AS stopped,
       count(*) FILTER (WHERE status = 'deleted') AS deleted,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       sum(size)::bigint AS size_bytes,
       sum(downloaded_bytes)::bigint AS downloaded_bytes,
       sum(uploaded_bytes)::bigint AS uploaded_bytes
  FROM history
 GROUP BY node, category;

CREATE VIEW report_completion_times AS
SELECT id AS history_id, node, hash, name, category, size, started_at, completed_at,
       completed_at - started_at AS duration,
       extract(epoch FROM completed_at - started_at)::numeric(20, 3) AS duration_s,
       CASE WHEN completed_at > started_at
            THEN floor(size / extract(epoch FROM completed_at - started_at))::bigint END AS avg_speed
  FROM history
 WHERE status = 'completed' AND completed_at IS NOT NULL;

CREATE VIEW report_top_files AS
SELECT rank() OVER (PARTITION BY f.node ORDER BY f.total_bytes DESC) AS rank,
       f.node, f.hash, f.name, f.size, f.downloads, f.downloaded_bytes, f.uploaded_bytes,
       f.total_bytes,
       round(f.uploaded_bytes::numeric / f.size, 3) AS upload_ratio,
       f.first_started, f.last_completed
  FROM (SELECT node, hash,
               (array_agg(name ORDER BY started_at DESC, id DESC))[1] AS name,
               max(size) AS size,
               count(*) AS downloads,
               sum(downloaded_bytes)::bigint AS downloaded_bytes,
               sum(uploaded_bytes)::bigint AS uploaded_bytes,
               sum(downloaded_bytes + uploaded_bytes)::bigint AS total_bytes,
               min(started_at) AS first_started,
               max(completed_at) AS last_completed
          FROM history
         GROUP BY node, hash) f;

CREATE VIEW report_active_downloads AS
SELECT node, hash, name, category, state, priority, size, done_bytes,
       greatest(size - done_bytes, 0) AS remaining_bytes,
       round(done_bytes::numeric / size, 4) AS progress,
       dl_speed, ul_speed, sources, complete_sources, transferring_sources,
       CASE WHEN dl_speed > 0 THEN greatest(size - done_bytes, 0) / dl_speed END AS eta_s,
       added_at, updated_at, error
  FROM downloads
 WHERE state <> 'completed';

-- report_chart: one row per bucket from p_from to p_to (empty buckets
-- included, with zeros), for one node or, with p_node NULL, all nodes
-- summed (peaks: the highest of any node). Without p_resolution_s it takes
-- the finest resolution giving at most p_max_points buckets whose data
-- reaches back to p_from (1-minute rollups are kept for less time), else
-- the finest giving at most p_max_points. Reads report_transfer_buckets,
-- so it works for muleteer_report.
CREATE FUNCTION report_chart(p_node text, p_from timestamptz, p_to timestamptz,
                             p_resolution_s integer DEFAULT NULL,
                             p_max_points integer DEFAULT 1000)
RETURNS TABLE (resolution_s integer, bucket_start timestamptz, bucket_end timestamptz,
               dl_bytes bigint, ul_bytes bigint, dl_avg bigint, ul_avg bigint,
               dl_avg_covered bigint, ul_avg_covered bigint, dl_peak bigint, ul_peak bigint,
               samples bigint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    res integer := p_resolution_s;
    cand integer;
    has_data boolean;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
        RAISE EXCEPTION 'report_chart: p_from must be before p_to';
    END IF;
    IF res IS NULL THEN
        FOREACH cand IN ARRAY ARRAY[60, 900, 3600, 21600] LOOP
            CONTINUE WHEN extract(epoch FROM p_to - p_from) / cand > p_max_points
                          AND cand <> 21600;
            res := coalesce(res, cand);
            EXECUTE 'SELECT EXISTS (SELECT 1 FROM report_transfer_buckets b'
                    ' WHERE ($1 IS NULL OR b.node = $1) AND b.resolution_s = $2'
                    ' AND b.bucket_start <= $3)'
               INTO has_data USING p_node, cand, p_from;
            IF has_data THEN
                res := cand;
                EXIT;
            END IF;
        END LOOP;
    ELSIF res NOT IN (60, 900, 3600, 21600) THEN
        RAISE EXCEPTION 'report_chart: resolution_s must be 60, 900, 3600 or 21600';
    END IF;
    -- Dynamic SQL: planned with the actual node, so the primary key is used.
    RETURN QUERY EXECUTE
        'SELECT $2, g.b, g.b + make_interval(secs => $2),'
        '       coalesce(a.dl_bytes, 0), coalesce(a.ul_bytes, 0),'
        '       coalesce(a.dl_bytes, 0) / $2, coalesce(a.ul_bytes, 0) / $2,'
        '       a.dl_bytes * 1000 / nullif(a.covered_ms, 0),'
        '       a.ul_bytes * 1000 / nullif(a.covered_ms, 0),'
        '       coalesce(a.dl_peak, 0), coalesce(a.ul_peak, 0), coalesce(a.samples, 0)'
        '  FROM generate_series(muleteer_bucket_start($3 + interval ''1 microsecond'', $2),'
        '                       $4 - interval ''1 microsecond'','
        '                       make_interval(secs => $2)) AS g(b)'
        '  LEFT JOIN (SELECT b.bucket_start, sum(b.dl_bytes)::bigint AS dl_bytes,'
        '                    sum(b.ul_bytes)::bigint AS ul_bytes, max(b.dl_peak) AS dl_peak,'
        '                    max(b.ul_peak) AS ul_peak, sum(b.samples)::bigint AS samples,'
        '                    sum(b.covered_ms)::bigint AS covered_ms'
        '               FROM report_transfer_buckets b'
        '              WHERE ' || CASE WHEN p_node IS NULL THEN 'true' ELSE 'b.node = $1' END ||
        '                AND b.resolution_s = $2'
        '                AND b.bucket_start >= muleteer_bucket_start($3 + interval ''1 microsecond'', $2)'
        '                AND b.bucket_start < $4'
        '              GROUP BY b.bucket_start) a ON a.bucket_start = g.b'
        ' ORDER BY g.b'
        USING p_node, res, p_from, p_to;
END
$$;

-- ------------------------------------------------------ the report role
-- muleteer_report reads the report_* views and history, and runs
-- report_chart; nothing else (no daemon_status, downloads, servers,
-- searches, samples, rollups, and none of the tables future migrations add:
-- tables carry no grant unless a migration gives one, and none may give
-- this role one on a table holding secrets). Roles belong to the whole
-- cluster: the role is created once (NOLOGIN; docs/reporting.md tells how
-- to log in with it) and granted in every database migrated. A migrating
-- user without CREATEROLE (an external PostgreSQL) skips this with a
-- NOTICE; the migration still succeeds.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'muleteer_report') THEN
        BEGIN
            CREATE ROLE muleteer_report NOLOGIN;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'role muleteer_report not created (%); create it as a superuser and run the GRANTs of docs/reporting.md', SQLERRM;
                RETURN;
            WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile by a migration of another database
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO muleteer_report', current_schema());
    GRANT SELECT ON history, report_transfer_buckets, report_transfer_daily,
                    report_transfer_monthly, report_category_totals, report_completion_times,
                    report_top_files, report_active_downloads
       TO muleteer_report;
    GRANT EXECUTE ON FUNCTION report_chart(text, timestamptz, timestamptz, integer, integer)
       TO muleteer_report;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'muleteer_report not granted (%); see docs/reporting.md', SQLERRM;
END
$$;
