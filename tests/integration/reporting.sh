#!/usr/bin/env bash
# reporting.sh: the SQL side of transfer rollups and reporting
# (sql/006_rollups_reporting.sql, docs/reporting.md) on a private
# PostgreSQL cluster: rollups against the raw samples on generated data
# (bucket edges, intervals across them, 1 s samples, a counter reset, gaps,
# two nodes, the daemon's own INSERT, repeated samples), the report views,
# retention pruning, the muleteer_report role, a migration by a user
# without CREATEROLE, and every example query of docs/reporting.md. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

mk_tmpdir T
private_pg "$T"
HOST="$T/pg"

# Q SQL: runs SQL as the cluster's superuser (the daemon's role); prints
# the rows, unaligned. QF reads the SQL from stdin. Errors go to $T/psql.err.
Q() { as_service_user psql "$DB" -XAtq -v ON_ERROR_STOP=1 -c "$1" 2>>"$T/psql.err"; }
QF() { as_service_user psql "$DB" -XAtq -v ON_ERROR_STOP=1 2>>"$T/psql.err"; }
# REP SQL: runs SQL as rep_user, a login member of muleteer_report.
REP() { as_service_user psql "host=$HOST dbname=muleteer user=rep_user" -XAtq -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# is DESC GOT WANT: one test point comparing two strings.
is() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:  $2" "want: $3"; fi
}
# migrate DBNAME USER: muleteerd --migrate as USER on database DBNAME.
migrate() {
  printf 'database = host=%s dbname=%s user=%s\n' "$HOST" "$1" "$2" >"$T/$1.conf"
  chmod 0644 "$T/$1.conf"
  as_service_user "$MT_BUILDDIR/bin/muleteerd" -c "$T/$1.conf" --migrate 2>&1
}

# What muleteerd --migrate says on a fresh database: every file of sql/.
NMIG=$(ls "$MT_SRCDIR"/sql/[0-9][0-9][0-9]_*.sql | wc -l)
LAST=$(ls "$MT_SRCDIR"/sql/[0-9][0-9][0-9]_*.sql | sed 's|.*/||' | sort | tail -n 1 | cut -c1-3 | sed 's/^0*//')
FRESH="database schema at version $LAST ($NMIG migrations applied now)"

# ---- migrations: first by an owner without CREATEROLE (an external
# PostgreSQL), before the role exists anywhere in the cluster ----
Q "CREATE ROLE ext_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB" &&
  Q "CREATE DATABASE extdb OWNER ext_owner"
out=$(migrate extdb ext_owner); rc=$?
is "the migrations succeed for a database owner without CREATEROLE" "$rc:$out" \
   "0:$FRESH"
is "... and muleteer_report is skipped, not half made" \
   "$(Q "SELECT count(*) FROM pg_roles WHERE rolname = 'muleteer_report'")" 0

out=$(migrate muleteer muleteer); rc=$?
is "the whole sql/ applies on a fresh database" "$rc:$out" \
   "0:$FRESH"
out=$(migrate muleteer muleteer)
is "a second run applies nothing" "$out" "database schema at version $LAST (0 migrations applied now)"
is "the migration creates muleteer_report, without LOGIN" \
   "$(Q "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'muleteer_report'")" f

Q "CREATE DATABASE extdb2 OWNER ext_owner"
out=$(migrate extdb2 ext_owner); rc=$?
is "a database owner without CREATEROLE grants the existing role" \
   "$rc:$(as_service_user psql "host=$HOST dbname=extdb2 user=ext_owner" -XAtq -c \
     "SELECT has_table_privilege('muleteer_report', 'report_transfer_daily', 'SELECT')")" "0:t"

# ---- generated samples ----
# alpha: A, 15 s samples at :07.5, :22.5, ... (one interval in four
# across a minute edge) from 2024-03-30 20:00 to 2024-03-31 08:30 UTC, over
# midnight, 06:00 and the Paris DST change, in one multi-row INSERT in
# random order; B, after a 10-minute gap, 1 s samples at .123456, one
# INSERT each; C, after a 15-hour gap, 15 s samples on the clock across
# midnight and the end of the month, the counter reset to 1000 at
# exactly 2024-04-01 00:00:00, INSERTs of 7 rows. beta: the daemon's own
# INSERT (totals added to the last row's) over 06:00 UTC, a restart gap.
# Bytes moved (dl_inc) differ from rate x interval, so the test sees which
# of the two a sample was counted with.
QF <<'SQL'
CREATE SCHEMA t;
CREATE TABLE t.gen (node text, t timestamptz, iv integer, dl_inc bigint, ul_inc bigint,
                    dl_rate bigint, ul_rate bigint, act integer, src integer, era integer, how text);
INSERT INTO t.gen
SELECT 'alpha', timestamptz '2024-03-30 20:00:07.5+00' + k * interval '15 s', 15000,
       20000 + (k * 7919) % 900000, 1000 + (k * 104729) % 90000, 0, 0, k % 4, k % 50, 0, 'bulk'
  FROM generate_series(0, 2999) k;
INSERT INTO t.gen
SELECT 'alpha', timestamptz '2024-03-31 08:40:00.123456+00' + k * interval '1 s', 1000,
       (k * 7919) % 300000, (k * 31) % 5000, 0, 0, 1 + k % 3, 20 + k % 7, 0, 'row'
  FROM generate_series(0, 299) k;
INSERT INTO t.gen
SELECT 'alpha', timestamptz '2024-03-31 23:45:00+00' + k * interval '15 s', 15000,
       5000 + (k * 7919) % 600000, 500 + (k * 613) % 40000, 0, 0, 2, 30,
       CASE WHEN k >= 60 THEN 1 ELSE 0 END, 'batch'
  FROM generate_series(0, 120) k;
INSERT INTO t.gen
SELECT 'beta', timestamptz '2024-03-31 05:50:03.25+00' + k * interval '15 s', 15000,
       10000 + (k * 7919) % 400000, 2000 + (k * 613) % 80000, 0, 0, 1, 10, 0, 'daemon'
  FROM generate_series(0, 199) k WHERE k NOT BETWEEN 100 AND 119;
UPDATE t.gen SET dl_rate = dl_inc * 1000 / iv + (extract(epoch FROM t)::bigint % 5) * 7,
                 ul_rate = ul_inc * 1000 / iv;
CREATE TABLE t.tot AS
SELECT g.*, CASE era WHEN 0 THEN 5000000000 ELSE 1000 END + sum(dl_inc) OVER w AS dl_total,
            CASE era WHEN 0 THEN 3000000000 ELSE 500 END + sum(ul_inc) OVER w AS ul_total
  FROM t.gen g WINDOW w AS (PARTITION BY node, era ORDER BY t);

INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total,
                              active_transfers, connected_sources)
SELECT node, t, iv, dl_rate, ul_rate, dl_total, ul_total, act, src
  FROM t.tot WHERE how = 'bulk' ORDER BY random();
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM t.tot WHERE how = 'row' ORDER BY t LOOP
        INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total,
                                      ul_total, active_transfers, connected_sources)
        VALUES (r.node, r.t, r.iv, r.dl_rate, r.ul_rate, r.dl_total, r.ul_total, r.act, r.src);
    END LOOP;
END $$;
DO $$
DECLARE b bigint;
BEGIN
    FOR b IN 0 .. 120 / 7 LOOP
        INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total,
                                      ul_total, active_transfers, connected_sources)
        SELECT node, t, iv, dl_rate, ul_rate, dl_total, ul_total, act, src
          FROM (SELECT *, row_number() OVER (ORDER BY t) - 1 AS n FROM t.tot WHERE how = 'batch') x
         WHERE n / 7 = b;
    END LOOP;
END $$;
-- daemon/store/download_tables.c's statement, with sampled_at given directly
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM t.gen WHERE how = 'daemon' ORDER BY t LOOP
        EXECUTE 'INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate,'
                ' dl_total, ul_total, active_transfers, connected_sources)'
                ' SELECT $1, $2, $3, $4, $5, COALESCE(last.dl_total, 0) + $6::bigint,'
                '  COALESCE(last.ul_total, 0) + $7::bigint, $8, $9'
                ' FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT dl_total, ul_total'
                '  FROM transfer_samples WHERE node = $1 ORDER BY sampled_at DESC LIMIT 1)'
                '  AS last ON true ON CONFLICT (node, sampled_at) DO NOTHING'
          USING r.node, r.t, r.iv, r.dl_rate, r.ul_rate, r.dl_inc, r.ul_inc, r.act, r.src;
    END LOOP;
END $$;

-- hand: six samples whose buckets are worked out in the test below
INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total) VALUES
    ('hand', '2024-01-01 00:00:50+00', 15000, 100, 1, 1000, 0),
    ('hand', '2024-01-01 00:01:05+00', 15000, 200, 1, 4000, 15);
INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total) VALUES
    ('hand', '2024-01-01 00:01:20+00', 15000, 300, 1, 2000, 30);
INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total) VALUES
    ('hand', '2024-01-01 06:00:00+00', 15000, 10, 1, 10000, 60),
    ('hand', '2024-01-01 00:02:01+00', 1000, 1000, 1, 3700, 46),
    ('hand', '2024-01-01 00:02:00+00', 15000, 50, 1, 2600, 45);

-- What each sample should count, computed independently of the trigger
-- (window functions, date_bin): the growth of the totals since the
-- previous sample when it is interval_ms (+-10 %) earlier and the total
-- did not go down, else rate x interval.
CREATE TABLE t.exp AS
SELECT x.node, x.sampled_at, x.interval_ms, x.dl_rate, x.ul_rate,
       x.active_transfers, x.connected_sources, c.contig,
       CASE WHEN c.contig AND x.dl_total >= x.p_dl THEN x.dl_total - x.p_dl
            ELSE round(x.dl_rate * x.interval_ms / 1000.0) END::bigint AS dl_b,
       CASE WHEN c.contig AND x.ul_total >= x.p_ul THEN x.ul_total - x.p_ul
            ELSE round(x.ul_rate * x.interval_ms / 1000.0) END::bigint AS ul_b,
       c.contig AND x.dl_total < x.p_dl AS reset
  FROM (SELECT s.*, lag(s.sampled_at) OVER w AS p_at, lag(s.dl_total) OVER w AS p_dl,
               lag(s.ul_total) OVER w AS p_ul
          FROM transfer_samples s WINDOW w AS (PARTITION BY s.node ORDER BY s.sampled_at)) x,
       LATERAL (SELECT x.p_at IS NOT NULL AND
                       abs(extract(epoch FROM x.sampled_at - x.p_at) * 1000 - x.interval_ms)
                       <= x.interval_ms / 10.0 AS contig) c;
CREATE TABLE t.exp_buckets AS
SELECT e.node, r.s AS res,
       date_bin(make_interval(secs => r.s), e.sampled_at - interval '1 microsecond',
                timestamptz 'epoch') AS b,
       sum(dl_b) AS dl, sum(ul_b) AS ul, max(dl_rate) AS dp, max(ul_rate) AS up, count(*) AS n,
       sum(interval_ms) AS cov, max(active_transfers) AS am, max(connected_sources) AS sm
  FROM t.exp e, (VALUES (60), (900), (3600), (21600)) AS r(s)
 GROUP BY 1, 2, 3;
SQL
[ -s "$T/psql.err" ] && diag "$(cat "$T/psql.err")"

is "the generated data covers what it should: samples, 1 s ones, intervals across minute edges, samples on an edge, gaps, a reset, two nodes" \
   "$(Q "SELECT count(*), count(*) FILTER (WHERE interval_ms = 1000),
             count(*) FILTER (WHERE date_bin('1 min', sampled_at - make_interval(secs => interval_ms / 1000.0), timestamptz 'epoch')
                                    <> date_bin('1 min', sampled_at - interval '1 microsecond', timestamptz 'epoch')) >= 750,
             count(*) FILTER (WHERE sampled_at = date_bin('1 min', sampled_at, timestamptz 'epoch')) > 20,
             count(*) FILTER (WHERE NOT contig), count(*) FILTER (WHERE reset), count(DISTINCT node)
        FROM t.exp")" "3607|301|t|t|8|2|3"

res_line() {
  Q "SELECT string_agg(format('%s:%s', res, bad), ' ' ORDER BY res) FROM (
       SELECT r.s AS res, (SELECT count(*) FROM (SELECT * FROM t.exp_buckets WHERE res = r.s) e
                             FULL JOIN (SELECT * FROM transfer_rollups WHERE resolution_s = r.s) x
                               ON x.node = e.node AND x.bucket_start = e.b
                            WHERE e.node IS NULL OR x.node IS NULL OR $1) AS bad
         FROM (VALUES (60), (900), (3600), (21600)) AS r(s)) z"
}
is "every rollup bucket at every resolution has the bytes of its samples (mismatching buckets per resolution)" \
   "$(res_line "(e.dl, e.ul) IS DISTINCT FROM (x.dl_bytes, x.ul_bytes)")" "60:0 900:0 3600:0 21600:0"
is "... the peaks (highest rate), sample counts and covered time" \
   "$(res_line "(e.dp, e.up, e.n, e.cov) IS DISTINCT FROM (x.dl_peak, x.ul_peak, x.samples, x.covered_ms)")" \
   "60:0 900:0 3600:0 21600:0"
is "... the highest active transfers and sources" \
   "$(res_line "(e.am, e.sm) IS DISTINCT FROM (x.active_max, x.sources_max)")" "60:0 900:0 3600:0 21600:0"
is "bytes across a bucket edge are counted once: at every resolution the buckets sum to the samples" \
   "$(Q "SELECT string_agg(DISTINCT ((SELECT sum(dl_bytes) || '/' || sum(ul_bytes) FROM transfer_rollups WHERE resolution_s = r.s)
                                   = (SELECT sum(dl_b) || '/' || sum(ul_b) FROM t.exp))::text, ',')
        FROM (VALUES (60), (900), (3600), (21600)) AS r(s)")" true
is "the daemon's own INSERT: each sample counts the bytes it added; the first and the one after a restart gap, rate x interval" \
   "$(Q "SELECT (SELECT sum(dl_bytes) FROM transfer_rollups WHERE node = 'beta' AND resolution_s = 3600)
             = (SELECT sum(CASE WHEN t IN (timestamptz '2024-03-31 05:50:03.25+00', timestamptz '2024-03-31 05:50:03.25+00' + 120 * interval '15 s')
                               THEN round(dl_rate * 15) ELSE dl_inc END) FROM t.gen WHERE node = 'beta')")" t
is "samples on the clock: each 1-minute bucket holds the four 15 s intervals inside it" \
   "$(Q "SELECT string_agg(samples || ':' || covered_ms, ' ' ORDER BY bucket_start) FROM transfer_rollups
        WHERE node = 'alpha' AND resolution_s = 60 AND bucket_start BETWEEN '2024-03-31 23:57+00' AND '2024-04-01 00:01+00'")" \
   "4:60000 4:60000 4:60000 4:60000 4:60000"

# hand: 00:00:50 first sample, rate x interval = 1500; 00:01:05 delta 3000
# (its interval starts in the previous minute, it counts in 00:01);
# 00:01:20 total went down: 4500; 00:02:00 after a 40 s gap: 750, and on
# the edge it belongs to the bucket ending at 00:02; 00:02:01 1 s later:
# delta 1100; 06:00:00 on a 6-hour edge: 150, in the 00:00 6-hour bucket.
is "hand-made samples: 1-minute buckets (start bytes peak samples covered_ms avg avg_covered)" \
   "$(Q "SELECT string_agg(format('%s %s %s %s %s %s %s', to_char(bucket_start, 'HH24:MI'), dl_bytes, dl_peak,
                                  samples, covered_ms, dl_avg, dl_avg_covered), ', ' ORDER BY bucket_start)
        FROM report_transfer_buckets WHERE node = 'hand' AND resolution_s = 60")" \
   "00:00 1500 100 1 15000 25 100, 00:01 8250 300 3 45000 137 183, 00:02 1100 1000 1 1000 18 1100, 05:59 150 10 1 15000 2 10"
is "hand-made samples: 15-minute, 1-hour and 6-hour buckets" \
   "$(Q "SELECT string_agg(format('%s/%s %s %s', resolution_s, to_char(bucket_start, 'HH24:MI'), dl_bytes, samples),
                           ', ' ORDER BY resolution_s, bucket_start)
        FROM transfer_rollups WHERE node = 'hand' AND resolution_s > 60")" \
   "900/00:00 10850 5, 900/05:45 150 1, 3600/00:00 10850 5, 3600/05:00 150 1, 21600/00:00 11000 6"
is "hand-made samples: upload bytes too (totals, with the reset, and rates)" \
   "$(Q "SELECT ul_bytes FROM transfer_rollups WHERE node = 'hand' AND resolution_s = 21600")" 76

QF <<'SQL'
CREATE TABLE t.snap AS SELECT * FROM transfer_rollups;
INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total)
SELECT node, t, iv, dl_rate * 2, ul_rate, dl_total + 999, ul_total
  FROM t.tot WHERE how = 'bulk' AND t < '2024-03-30 21:00+00'
    ON CONFLICT (node, sampled_at) DO NOTHING;
SQL
is "a sample written again (ON CONFLICT DO NOTHING) changes no rollup" \
   "$(Q "SELECT (SELECT count(*) FROM (SELECT * FROM transfer_rollups EXCEPT SELECT * FROM t.snap) d)
             + (SELECT count(*) FROM (SELECT * FROM t.snap EXCEPT SELECT * FROM transfer_rollups) d)")" 0

# ---- the transfer views ----
is "report_transfer_daily (UTC) has, per day, the bytes of the samples ending that day" \
   "$(Q "SELECT count(*) FROM (SELECT node, (sampled_at - interval '1 microsecond')::date AS day,
                                     sum(dl_b) AS dl, sum(ul_b) AS ul, max(dl_rate) AS dp
                                FROM t.exp GROUP BY 1, 2) e
        FULL JOIN report_transfer_daily d USING (node, day)
       WHERE (e.dl, e.ul, e.dp) IS DISTINCT FROM (d.dl_bytes, d.ul_bytes, d.dl_peak) OR d.day_s <> 86400")" 0
is "report_transfer_daily follows the session's time zone: 2024-03-31 in Paris is 23 hours long" \
   "$(QF <<'SQL'
SET TimeZone = 'Europe/Paris';
SELECT d.day_s || ' ' || (d.dl_bytes = (SELECT sum(dl_b) FROM t.exp WHERE node = 'alpha'
                             AND (sampled_at - interval '1 microsecond')::date = '2024-03-31'))
       || ' ' || (d.dl_avg = d.dl_bytes / 82800)
  FROM report_transfer_daily d WHERE node = 'alpha' AND day = '2024-03-31';
SQL
)" "82800 true true"
is "report_transfer_daily in New York puts the hand-made samples of 00:00 UTC on the day before" \
   "$(Q "SET TimeZone = 'America/New_York'; SELECT string_agg(day || ' ' || dl_bytes, ', ' ORDER BY day)
        FROM report_transfer_daily WHERE node = 'hand'")" "2023-12-31 10850, 2024-01-01 150"
is "report_transfer_monthly splits March and April at the UTC month boundary (the sample at exactly 00:00 is March's)" \
   "$(Q "SELECT string_agg(m.month || ' ' || (m.dl_bytes = e.dl) || ' ' || m.month_s, ', ' ORDER BY m.month)
        FROM report_transfer_monthly m
        JOIN (SELECT date_trunc('month', sampled_at - interval '1 microsecond')::date AS month, sum(dl_b) AS dl
                FROM t.exp WHERE node = 'alpha' GROUP BY 1) e USING (month)
       WHERE m.node = 'alpha'")" "2024-03-01 true 2678400, 2024-04-01 true 2592000"

is "report_chart over 6 hours picks 1-minute buckets, one row per bucket, with the samples' bytes" \
   "$(Q "SELECT min(resolution_s) || ' ' || count(*) || ' ' || (sum(dl_bytes) = (SELECT sum(dl_b) FROM t.exp WHERE node = 'alpha'
               AND sampled_at > '2024-03-31 00:00+00' AND sampled_at <= '2024-03-31 06:00+00'))
        FROM report_chart('alpha', '2024-03-31 00:00+00', '2024-03-31 06:00+00')")" "60 360 true"
is "report_chart over 30 days picks 1-hour buckets (720), zeros where nothing was sampled" \
   "$(Q "SELECT min(resolution_s) || ' ' || count(*) || ' ' || count(*) FILTER (WHERE samples = 0 AND dl_bytes = 0 AND dl_avg_covered IS NULL)
               || ' ' || (sum(dl_bytes) = (SELECT sum(dl_b) FROM t.exp WHERE node = 'alpha'))
        FROM report_chart('alpha', '2024-03-15 00:00+00', '2024-04-14 00:00+00')")" "3600 720 705 true"
is "report_chart with no node sums the nodes; an explicit resolution is used" \
   "$(Q "SELECT count(*) || ' ' || (sum(dl_bytes) = (SELECT sum(dl_b) FROM t.exp WHERE node IN ('alpha', 'beta')))
               || ' ' || (max(dl_peak) = (SELECT max(dl_rate) FROM t.exp WHERE node IN ('alpha', 'beta')))
        FROM report_chart(NULL, '2024-03-30 18:00+00', '2024-04-02 00:00+00', 21600)")" "9 true true"
out=$(Q "SELECT * FROM report_chart('alpha', now(), now(), 60)"; Q "SELECT * FROM report_chart('alpha', now() - interval '1 day', now(), 61)")
is "report_chart refuses an empty range and an unknown resolution" "$(grep -c 'report_chart:' "$T/psql.err")" 2

# ---- history and downloads views ----
QF <<'SQL'
INSERT INTO downloads (node, hash, name, size, category, state, done_bytes, dl_speed, sources,
                       transferring_sources, added_at) VALUES
    ('alpha', md5('d1'), 'debian-12.iso', 4000000000, 'linux', 'downloading', 1000000000, 500000, 12, 3, now() - interval '2 hours'),
    ('alpha', md5('d2'), 'paused.mkv', 700000000, 'video', 'paused', 100, 0, 0, 0, now() - interval '1 day'),
    ('alpha', md5('d3'), 'done.flac', 30000000, 'music', 'completed', 30000000, 0, 0, 0, now() - interval '3 days'),
    ('ret', md5('r4'), 'still-live.bin', 1000, NULL, 'error', 10, 0, 0, 0, now() - interval '100 days');
INSERT INTO history (node, hash, name, size, category, status, started_at, completed_at, deleted_at,
                     downloaded_bytes, uploaded_bytes) VALUES
    ('alpha', md5('d3'), 'done.flac', 30000000, 'music', 'completed', now() - interval '3 days', now() - interval '3 days' + interval '90 minutes', NULL, 30000000, 45000000),
    ('alpha', md5('d1'), 'debian-12.iso', 4000000000, 'linux', 'downloading', now() - interval '2 hours', NULL, NULL, 1000000000, 0),
    ('alpha', md5('h1'), 'old.iso', 2000000000, 'linux', 'completed', now() - interval '20 days', now() - interval '19 days', NULL, 2000000000, 6000000000),
    ('alpha', md5('h1'), 'old (again).iso', 2000000000, 'linux', 'deleted', now() - interval '10 days', NULL, now() - interval '9 days', 500, 1000),
    ('alpha', md5('h2'), 'broken.avi', 100000000, NULL, 'failed', now() - interval '5 days', NULL, NULL, 50000000, 0),
    ('alpha', md5('h3'), 'album.zip', 500000000, 'music', 'completed', now() - interval '40 days', now() - interval '39 days', NULL, 500000000, 100000000);
SQL
is "report_category_totals: count, statuses, size, bytes down and up per category" \
   "$(Q "SELECT string_agg(concat_ws(' ', coalesce(category, '-'), downloads, completed, downloading, stopped, deleted, failed,
                                     size_bytes, downloaded_bytes, uploaded_bytes), ', ' ORDER BY category NULLS FIRST)
        FROM report_category_totals WHERE node = 'alpha'")" \
   "- 1 0 0 0 0 1 100000000 50000000 0, linux 3 1 1 0 1 0 8000000000 3000000500 6000001000, music 2 2 0 0 0 0 530000000 530000000 145000000"
is "report_completion_times: started to completed, in seconds, and the average speed" \
   "$(Q "SELECT string_agg(concat_ws(' ', name, duration, duration_s, avg_speed), ', ' ORDER BY name)
        FROM report_completion_times WHERE node = 'alpha'")" \
   "album.zip 1 day 86400.000 5787, done.flac 01:30:00 5400.000 5555, old.iso 1 day 86400.000 23148"
is "report_top_files: files ranked by bytes down + up, a re-added file once under its latest name" \
   "$(Q "SELECT string_agg(concat_ws(' ', rank, name, downloads, total_bytes, upload_ratio), ', ' ORDER BY rank)
        FROM report_top_files WHERE node = 'alpha'")" \
   "1 old (again).iso 2 8000001500 3.000, 2 debian-12.iso 1 1000000000 0.000, 3 album.zip 1 600000000 0.200, 4 done.flac 1 75000000 1.500, 5 broken.avi 1 50000000 0.000"
is "report_active_downloads: every download not completed, with progress and ETA" \
   "$(Q "SELECT string_agg(concat_ws(' ', name, state, progress, remaining_bytes, coalesce(eta_s::text, '-')), ', ' ORDER BY name)
        FROM report_active_downloads WHERE node = 'alpha'")" \
   "debian-12.iso downloading 0.2500 3000000000 6000, paused.mkv paused 0.0000 699999900 -"

# ---- retention ----
# ret: a sample every hour for 500 days, ending 17 minutes ago; history
# rows of every kind. Counts are taken in the pruning transaction (same
# now()); the ones not depending on where now() falls in an hour are fixed.
QF <<'SQL'
INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total)
SELECT 'ret', now() - k * interval '1 hour' - interval '17 minutes', 3600000, 300 + k % 100, 30,
       13000000000 - k * 1080000, 1300000000 - k * 108000
  FROM generate_series(0::bigint, 11999) k;
INSERT INTO history (node, hash, name, size, category, status, started_at, completed_at, deleted_at) VALUES
    ('ret', md5('r1'), 'r1', 1, 'linux', 'completed', now() - interval '41 days', now() - interval '40 days', NULL),
    ('ret', md5('r2'), 'r2', 1, NULL, 'deleted', now() - interval '36 days', NULL, now() - interval '35 days'),
    ('ret', md5('r3'), 'r3', 1, NULL, 'failed', now() - interval '50 days', NULL, NULL),
    ('ret', md5('r4'), 'still-live.bin', 1000, NULL, 'failed', now() - interval '100 days', NULL, NULL),
    ('ret', md5('r5'), 'r5', 1, NULL, 'stopped', now() - interval '60 days', NULL, NULL),
    ('ret', md5('r6'), 'r6', 1, NULL, 'downloading', now() - interval '100 days', NULL, NULL),
    ('ret', md5('r7'), 'r7', 1, 'linux', 'completed', now() - interval '6 days', now() - interval '5 days', NULL);
SQL
out=$(QF <<'SQL'
BEGIN;
CREATE TEMP TABLE before AS SELECT
    (SELECT count(*) FROM transfer_samples WHERE node = 'ret' AND sampled_at < now() - interval '2 days') AS s,
    (SELECT count(*) FROM transfer_rollups WHERE node = 'ret' AND resolution_s > 60
        AND bucket_start + make_interval(secs => resolution_s) < now() - interval '400 days') AS c,
    (SELECT count(*) FROM transfer_samples WHERE node <> 'ret') AS other_s,
    (SELECT count(*) FROM transfer_rollups WHERE node <> 'ret') AS other_r,
    (SELECT sum(dl_bytes) FROM transfer_rollups WHERE node = 'ret' AND resolution_s = 900
        AND bucket_start > now() - interval '399 days') AS kept_bytes;
CREATE TEMP TABLE p AS SELECT * FROM muleteer_prune('ret');
SELECT concat_ws(' ', p.samples_deleted, p.rollups_1m_deleted, p.rollups_coarse_deleted, p.history_deleted,
         p.samples_deleted = b.s, p.rollups_coarse_deleted = b.c, p.rollups_coarse_deleted BETWEEN 5198 AND 5201,
         (SELECT count(*) FROM transfer_samples WHERE node = 'ret'),
         (SELECT min(sampled_at) >= now() - interval '2 days' FROM transfer_samples WHERE node = 'ret'),
         (SELECT count(*) FROM transfer_samples WHERE node <> 'ret') = b.other_s,
         (SELECT count(*) FROM transfer_rollups WHERE node <> 'ret') = b.other_r,
         (SELECT sum(dl_bytes) FROM transfer_rollups WHERE node = 'ret' AND resolution_s = 900
             AND bucket_start > now() - interval '399 days') = b.kept_bytes)
  FROM p, before b;
COMMIT;
SQL
)
is "muleteer_prune('ret') with the defaults: raw after 2 days, 1-minute after 14, coarser after 400, history kept" \
   "$out" "11952 11664 $(echo "$out" | cut -d' ' -f3) 0 t t t 48 t t t t"
is "... and none of the remaining rollups of 'ret' is past its retention" \
   "$(Q "SELECT count(*) FROM transfer_rollups WHERE node = 'ret' AND bucket_start + make_interval(secs => resolution_s)
        < now() - CASE resolution_s WHEN 60 THEN interval '14 days' ELSE interval '400 days' END")" 0
is "report_chart over old 1-minute data that was pruned falls back to 15-minute buckets" \
   "$(Q "SELECT min(resolution_s) || ' ' || (sum(dl_bytes) > 0)
        FROM report_chart('ret', now() - interval '30 days', now() - interval '30 days' + interval '6 hours')")" "900 true"
is "muleteer_prune with a 30-day history retention deletes only rows that are over and not of a live download" \
   "$(Q "SELECT concat_ws(' ', samples_deleted, rollups_1m_deleted, rollups_coarse_deleted, history_deleted)
        FROM muleteer_prune('ret', NULL, NULL, NULL, '30 days')")" "0 0 0 3"
is "... rows left: the live download's, stopped, downloading, recent; other nodes' untouched; downloads untouched" \
   "$(Q "SELECT (SELECT string_agg(name, ' ' ORDER BY name) FROM history WHERE node = 'ret') || ' | '
               || (SELECT count(*) FROM history WHERE node = 'alpha') || ' ' || (SELECT count(*) FROM downloads)")" \
   "r5 r6 r7 still-live.bin | 6 4"
is "a second prune finds nothing; a negative retention is refused" \
   "$(Q "SELECT concat_ws(' ', samples_deleted, rollups_1m_deleted, rollups_coarse_deleted, history_deleted)
        FROM muleteer_prune('ret', '2 days', '14 days', '400 days', '30 days')");$(Q "SELECT muleteer_prune('ret', interval '-1 day')" || echo refused)" \
   "0 0 0 0;refused"

# ---- the report role ----
Q "CREATE ROLE rep_user LOGIN IN ROLE muleteer_report"
views="report_transfer_buckets report_transfer_daily report_transfer_monthly report_category_totals
  report_completion_times report_top_files report_active_downloads history"
got=""
for v in $views; do
  n=$(REP "SELECT count(*) > 0 FROM $v")
  got="$got$v=$n "
done
is "muleteer_report reads every report view and history" "$got" \
   "$(for v in $views; do printf '%s=t ' "$v"; done)"
is "muleteer_report runs report_chart" \
   "$(REP "SELECT min(resolution_s) || ' ' || count(*) FROM report_chart(NULL, now() - interval '30 days', now())")" "3600 721"
got=""
for tbl in daemon_status categories downloads transfer_samples transfer_rollups servers server_messages \
           searches search_results history_events schema_migrations t.gen; do
  REP "SELECT 1 FROM $tbl LIMIT 1" | grep -q "permission denied" || got="$got $tbl"
done
is "muleteer_report cannot read any other table (those it could:)" "$got" ""
got=""
for stmt in "INSERT INTO history (node, hash, name, size, status, started_at) VALUES ('x', md5('x'), 'x', 1, 'completed', now())" \
            "UPDATE history SET name = 'x'" "DELETE FROM history" "TRUNCATE history" \
            "UPDATE report_active_downloads SET name = 'x'" "DELETE FROM report_active_downloads" \
            "INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total) VALUES ('x', now(), 1, 0, 0, 0, 0)" \
            "SELECT muleteer_prune(NULL)" "CREATE TABLE public.mine (x int)"; do
  REP "$stmt" | grep -q "permission denied" || got="$got [$stmt]"
done
is "muleteer_report cannot write anything, prune, or create tables (statements that did not fail:)" "$got" ""
is "catalog: muleteer_report has no privilege on any relation but SELECT on history and the report views" \
   "$(Q "SELECT coalesce(string_agg(c.relname, ' '), 'none') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
          AND c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f')
          AND (has_table_privilege('muleteer_report', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
               OR (has_any_column_privilege('muleteer_report', c.oid, 'SELECT')
                   AND NOT (n.nspname = 'public' AND (c.relname = 'history' OR c.relname LIKE 'report\_%')))
               OR (c.relkind = 'S' AND has_sequence_privilege('muleteer_report', c.oid, 'USAGE')))")" none
is "the report views read with their owner's rights are the only way in: no PUBLIC grant on any table" \
   "$(Q "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = 0")" 0

# ---- the ten example queries of docs/reporting.md, as muleteer_report ----
awk -v dir="$T" '/^```sql$/ { n++; f = dir "/example." n ".sql"; printf "" > f; inq = 1; next }
                 /^```/ { inq = 0; next }
                 inq { print >> f }' "$MT_SRCDIR/docs/reporting.md"
n=$(ls "$T"/example.*.sql 2>/dev/null | wc -l)
is "docs/reporting.md has ten example queries" "$n" 10
bad=""
for i in $(seq 1 "$n"); do
  out=$(as_service_user psql "host=$HOST dbname=muleteer user=rep_user" -XAtq -v ON_ERROR_STOP=1 \
        -f "$T/example.$i.sql" 2>&1); rc=$?
  if [ $rc != 0 ] || [ -z "$out" ]; then
    bad="$bad $i"; diag "example $i (rc $rc): $(head -c 300 <<<"$out")"
  fi
done
is "every example query runs as muleteer_report and returns rows (failing ones:)" "$bad" ""

errs=$(grep -v 'report_chart\|muleteer_prune' "$T/psql.err" 2>/dev/null | head -n 20)
[ -n "$errs" ] && diag "psql said:" "$errs"
finish
