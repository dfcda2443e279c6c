/* render.c: the metric families of /metrics from the daemon's `metrics`
 * answer (docs/control-protocol.md) and from the route families' slot
 * files (cgistats.h); names and labels are listed in docs/metrics.md. */
#include "config.h"

#include "prom/prom.h"

#include <string.h>

#define C PROMFMT_COUNTER
#define G PROMFMT_GAUGE

/* num: the number at path a.b (b may be NULL) of m, 0 when absent. */
static double
num(json_object *m, const char *a, const char *b)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(m, a, &v))
        return 0;
    if (b != NULL && !json_object_object_get_ex(v, b, &v))
        return 0;
    return json_object_get_double(v);
}

/* by_key: one sample per member of m's object key, labelled label=member. */
static void
by_key(promfmt_t *f, json_object *m, const char *key, const char *name, const char *label)
{
    json_object *o;
    if (!json_object_object_get_ex(m, key, &o) || !json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, k, v)
    {
        promfmt_label_t l = { label, k };
        promfmt_sample(f, name, &l, 1, json_object_get_double(v));
    }
}

static void
traffic(promfmt_t *f, json_object *m)
{
    json_object *t = NULL;
    json_object_object_get_ex(m, "traffic", &t);
    static const char *const dirs[] = { "in", "out" };
    promfmt_family(f, "muleteer_transfer_bytes_total", C,
                   "Bytes moved, by direction and part: payload is file data in OP_SENDINGPART "
                   "and OP_COMPRESSEDPART packets, overhead everything else on peer connections, "
                   "the server connection and UDP.");
    for (int i = 0; i < 2; i++) {
        double pay = num(t, "payload", dirs[i]);
        double over = num(t, "protocol", dirs[i]) + num(t, "server", dirs[i]) +
                      num(t, "udp", dirs[i]);
        promfmt_label_t l[2] = { { "direction", dirs[i] }, { "part", "payload" } };
        promfmt_sample(f, "muleteer_transfer_bytes_total", l, 2, pay);
        l[1].value = "overhead";
        promfmt_sample(f, "muleteer_transfer_bytes_total", l, 2, over);
    }
    promfmt_family(f, "muleteer_channel_bytes_total", C,
                   "Bytes moved, by direction and channel (peer connections, the server "
                   "connection, UDP), protocol included.");
    static const char *const chans[] = { "peer", "server", "udp" };
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 2; i++) {
            promfmt_label_t l[2] = { { "direction", dirs[i] }, { "channel", chans[c] } };
            promfmt_sample(f, "muleteer_channel_bytes_total", l, 2, num(t, chans[c], dirs[i]));
        }
}

static void
gauge(promfmt_t *f, const char *name, const char *help, double v)
{
    promfmt_family(f, name, G, help);
    promfmt_sample(f, name, NULL, 0, v);
}

static void
server(promfmt_t *f, json_object *m)
{
    json_object *s = NULL, *v;
    json_object_object_get_ex(m, "server", &s);
    const char *state = json_object_object_get_ex(s, "state", &v) ? json_object_get_string(v)
                                                                 : "disconnected";
    static const char *const states[] = { "disconnected", "resolving", "connecting",
                                          "logging in", "connected" };
    promfmt_family(f, "muleteer_server_state", G,
                   "The eD2K server connection's state: 1 for the current one.");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        promfmt_label_t l = { "state", states[i] };
        promfmt_sample(f, "muleteer_server_state", &l, 1, strcmp(state, states[i]) == 0);
    }
    gauge(f, "muleteer_server_connected", "1 while logged in to an eD2K server.",
          num(m, "server", "connected"));
    if (json_object_object_get_ex(s, "lowid", &v) && v != NULL)
        gauge(f, "muleteer_server_lowid",
              "1 when the server gave us a LowID, 0 for a HighID (absent while not connected).",
              json_object_get_boolean(v));
}

static void
database(promfmt_t *f, json_object *m)
{
    gauge(f, "muleteer_db_connected", "1 while the database writer is connected to PostgreSQL.",
          num(m, "database", "connected"));
    gauge(f, "muleteer_db_queue_jobs", "Writes waiting for the database.",
          num(m, "database", "queued"));
    gauge(f, "muleteer_db_lag_seconds", "Age of the oldest write waiting for the database.",
          num(m, "database", "lag_ms") / 1000.0);
    promfmt_family(f, "muleteer_db_jobs_total", C,
                   "Database writer jobs by outcome (dropped: failed for good or pushed out of "
                   "the full queue).");
    static const char *const r[] = { "done", "failed", "dropped" };
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "jobs_%s", r[i]);
        promfmt_label_t l = { "result", r[i] };
        promfmt_sample(f, "muleteer_db_jobs_total", &l, 1, num(m, "database", key));
    }
}

/* kad: the Kad node, from the kad-status object the daemon adds (absent:
 * no Kad lines). */
static void
kad(promfmt_t *f, json_object *m)
{
    json_object *k = NULL, *v;
    if (!json_object_object_get_ex(m, "kad", &k) || !json_object_is_type(k, json_type_object))
        return;
    const char *state = json_object_object_get_ex(k, "state", &v) ? json_object_get_string(v)
                                                                 : "off";
    static const char *const states[][2] = { { "off", "off" },
                                             { "connecting", "connecting" },
                                             { "connected (open)", "open" },
                                             { "connected (firewalled)", "firewalled" } };
    promfmt_family(f, "muleteer_kad_state", G,
                   "The Kad node's state (off, connecting, open, firewalled): 1 for the current "
                   "one.");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        promfmt_label_t l = { "state", states[i][1] };
        promfmt_sample(f, "muleteer_kad_state", &l, 1, strcmp(state, states[i][0]) == 0);
    }
    gauge(f, "muleteer_kad_firewalled",
          "1 while our Kad firewall check says firewalled (TCP), 0 when open.",
          num(k, "firewalled", NULL));
    gauge(f, "muleteer_kad_udp_firewalled",
          "1 while our Kad UDP firewall check says firewalled, 0 when open.",
          num(k, "udp_firewalled", NULL));
    gauge(f, "muleteer_kad_contacts", "Contacts in the Kad routing table.",
          num(k, "contacts", NULL));
    gauge(f, "muleteer_kad_contacts_verified", "Kad contacts verified by HELLO.",
          num(k, "verified", NULL));
    promfmt_family(f, "muleteer_kad_searches_total", C,
                   "Kad searches started, by kind (keyword, source).");
    promfmt_label_t l = { "kind", "keyword" };
    promfmt_sample(f, "muleteer_kad_searches_total", &l, 1, num(k, "keyword_searches", NULL));
    l.value = "source";
    promfmt_sample(f, "muleteer_kad_searches_total", &l, 1, num(k, "source_searches", NULL));
    promfmt_family(f, "muleteer_kad_lookups_total", C, "Kad iterative lookups started.");
    promfmt_sample(f, "muleteer_kad_lookups_total", NULL, 0, num(k, "lookups", NULL));
    promfmt_family(f, "muleteer_kad_indexed", G,
                   "Entries others published to us, by kind (keyword, source).");
    l = (promfmt_label_t){ "kind", "keyword" };
    promfmt_sample(f, "muleteer_kad_indexed", &l, 1, num(k, "indexed_keywords", NULL));
    l.value = "source";
    promfmt_sample(f, "muleteer_kad_indexed", &l, 1, num(k, "indexed_sources", NULL));
    promfmt_family(f, "muleteer_kad_datagrams_total", C,
                   "Kad datagrams on the client UDP port, by direction.");
    l = (promfmt_label_t){ "direction", "in" };
    promfmt_sample(f, "muleteer_kad_datagrams_total", &l, 1, num(k, "datagrams_in", NULL));
    l.value = "out";
    promfmt_sample(f, "muleteer_kad_datagrams_total", &l, 1, num(k, "datagrams_out", NULL));
    promfmt_family(f, "muleteer_kad_datagrams_refused_total", C,
                   "Kad datagrams received and not taken, by reason (dropped: unasked for, "
                   "flooding or refused; malformed).");
    l = (promfmt_label_t){ "reason", "dropped" };
    promfmt_sample(f, "muleteer_kad_datagrams_refused_total", &l, 1, num(k, "dropped", NULL));
    l.value = "malformed";
    promfmt_sample(f, "muleteer_kad_datagrams_refused_total", &l, 1, num(k, "malformed", NULL));
    promfmt_family(f, "muleteer_kad_firewall_checks_answered_total", C,
                   "Other nodes' Kad firewall checks answered (a TCP connect-back each).");
    promfmt_sample(f, "muleteer_kad_firewall_checks_answered_total", NULL, 0,
                   num(k, "firewall_checks_answered", NULL));
}

void
prom_render_daemon(promfmt_t *f, json_object *m)
{
    gauge(f, "muleteer_up", "1 when the daemon answered this scrape.", m != NULL);
    if (m == NULL)
        return;
    json_object *v;
    promfmt_family(f, "muleteer_info", G, "The daemon's node name and version.");
    promfmt_label_t info[2] = {
        { "node", json_object_object_get_ex(m, "node", &v) ? json_object_get_string(v) : "" },
        { "version", json_object_object_get_ex(m, "version", &v) ? json_object_get_string(v) : "" },
    };
    promfmt_sample(f, "muleteer_info", info, 2, 1);
    gauge(f, "muleteer_start_time_seconds", "When the daemon started, Unix time.",
          num(m, "started_at", NULL));
    traffic(f, m);
    promfmt_family(f, "muleteer_transfer_rate_bytes", G,
                   "Current transfer rate in bytes per second, as the engine smooths it.");
    promfmt_label_t d = { "direction", "in" };
    promfmt_sample(f, "muleteer_transfer_rate_bytes", &d, 1, num(m, "rates", "download"));
    d.value = "out";
    promfmt_sample(f, "muleteer_transfer_rate_bytes", &d, 1, num(m, "rates", "upload"));
    promfmt_family(f, "muleteer_downloads", G, "Active downloads by state.");
    by_key(f, m, "downloads", "muleteer_downloads", "state");
    promfmt_family(f, "muleteer_finished_downloads", G, "Finished downloads by state.");
    by_key(f, m, "finished", "muleteer_finished_downloads", "state");
    promfmt_family(f, "muleteer_sources", G, "Sources of the active downloads by state.");
    by_key(f, m, "sources", "muleteer_sources", "state");
    gauge(f, "muleteer_peers_connected", "Peer connections open.", num(m, "peers", NULL));
    gauge(f, "muleteer_upload_slots_used", "Upload slots in use.", num(m, "upload_slots", NULL));
    gauge(f, "muleteer_upload_queue_length", "Peers waiting in the upload queue.",
          num(m, "upload_queue", NULL));
    server(f, m);
    gauge(f, "muleteer_shared_files", "Files shared.", num(m, "shared_files", NULL));
    promfmt_family(f, "muleteer_searches_started_total", C, "Searches started since the start.");
    promfmt_sample(f, "muleteer_searches_started_total", NULL, 0, num(m, "searches", "started"));
    gauge(f, "muleteer_searches_running", "Searches running.", num(m, "searches", "running"));
    database(f, m);
    kad(f, m);
    promfmt_family(f, "muleteer_bugs_total", C,
                   "Broken internal invariants the daemon logged and recovered from.");
    promfmt_sample(f, "muleteer_bugs_total", NULL, 0, num(m, "bugs", NULL));
    gauge(f, "muleteer_ipfilter_ranges", "Address ranges the IP filter blocks.",
          num(m, "ipfilter", "ranges"));
    promfmt_family(f, "muleteer_ipfilter_hits_total", C,
                   "Filtered addresses met, by where (peers_in, peers_out, sources, servers).");
    json_object *ipf = NULL, *hits = NULL;
    if (!json_object_object_get_ex(m, "ipfilter", &ipf) ||
        !json_object_object_get_ex(ipf, "hits", &hits))
        return;
    json_object_object_foreach(hits, k, hv) {
        if (strcmp(k, "total") == 0)
            continue;
        promfmt_label_t l = { "kind", k };
        promfmt_sample(f, "muleteer_ipfilter_hits_total", &l, 1, json_object_get_double(hv));
    }
}

void
prom_render_http(promfmt_t *f, const cgistats_family_t *fam, size_t n)
{
    static const char *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
    promfmt_family(f, "muleteer_http_requests_total", C,
                   "HTTP requests answered, by route family (FastCGI program) and status class.");
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 6; c++) {
            if ((c < 2) && fam[i].sum.by_class[c] == 0)
                continue; /* 2xx to 5xx always; 1xx and other once seen */
            promfmt_label_t l[2] = { { "family", fam[i].name }, { "code", classes[c] } };
            promfmt_sample(f, "muleteer_http_requests_total", l, 2,
                           (double)fam[i].sum.by_class[c]);
        }
    static const double bounds[CGISTATS_N_BOUNDS] = CGISTATS_BOUNDS;
    promfmt_family(f, "muleteer_http_request_duration_seconds", PROMFMT_HISTOGRAM,
                   "Time from reading a request to the end of writing its answer, by route "
                   "family.");
    for (size_t i = 0; i < n; i++) {
        unsigned long long counts[CGISTATS_N_BOUNDS + 1];
        for (size_t b = 0; b <= CGISTATS_N_BOUNDS; b++)
            counts[b] = fam[i].sum.buckets[b];
        promfmt_label_t l = { "family", fam[i].name };
        promfmt_histogram(f, "muleteer_http_request_duration_seconds", &l, 1, bounds,
                          CGISTATS_N_BOUNDS, counts, (double)fam[i].sum.usec_sum / 1e6);
    }
}
