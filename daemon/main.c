/* main.c: muleteerd's entry point: command line, configuration, start-up
 * of the event loop, control socket, database worker and periodic jobs,
 * and an orderly shutdown on SIGTERM/SIGINT. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <curl/curl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/core/bus.h"
#include "daemon/core/daemon.h"
#include "daemon/core/identity.h"
#include "daemon/core/logtap.h"
#include "daemon/core/periodic.h"
#include "daemon/core/worker.h"
#include "daemon/ctl/cmd_category.h"
#include "daemon/ctl/cmd_config.h"
#include "daemon/ctl/cmd_log.h"
#include "daemon/ctl/cmd_metrics.h"
#include "daemon/ctl/cmd_search.h"
#include "daemon/ctl/cmd_kad.h"
#include "daemon/ctl/cmd_hooks.h"
#include "daemon/ctl/cmd_import.h"
#include "daemon/ctl/cmd_ipfilter.h"
#include "daemon/ctl/cmd_server.h"
#include "daemon/ctl/cmd_transfer.h"
#include "daemon/ctl/control.h"
#include "daemon/ctl/evstream.h"
#include "daemon/ctl/status.h"
#include "daemon/ed2k/search.h"
#include "daemon/hooks/hooks.h"
#include "daemon/ed2k/server.h"
#include "daemon/ed2k/serverlist.h"
#include "daemon/net/ipblock.h"
#include "daemon/net/limitsched.h"
#include "daemon/net/portmap.h"
#include "daemon/net/peer.h"
#include "daemon/kad/kad.h"
#include "daemon/store/db_worker.h"
#include "daemon/store/history.h"
#include "daemon/store/relay.h"
#include "daemon/transfer/category.h"
#include "daemon/transfer/taglist.h"
#include "daemon/transfer/dbsync.h"
#include "daemon/transfer/download.h"
#include "daemon/transfer/finished.h"
#include "daemon/transfer/ident.h"
#include "daemon/transfer/partfile.h"
#include "daemon/transfer/shared.h"
#include "daemon/transfer/upload.h"
#include "ctl/proto.h"
#include "db/db.h"
#include "db/migrate.h"
#include "ed2k/hash.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* start_kad_search: the searches' Kad hook (search_set_kad). */
static int
start_kad_search(void *ctx, int64_t id, const char *keywords, const uint8_t *tree, size_t tree_len)
{
    muleteerd_t *d = ctx;
    return kad_search_keyword(d->kad, id, keywords, tree, tree_len, NULL);
}

static const ctlsrv_command_t commands[] = {
    { "ping", status_cmd_ping, "check that the daemon answers" },
    { "status", status_cmd_status, "version, uptime, ports and database state" },
    { "add", cmd_add, "add a download from an ed2k link: {link, category, priority, tags, ratio_limit, seeding_time_limit, stopped, force_start}" },
    { "downloads", cmd_downloads, "list the downloads with progress, speed and sources, and the finished ones" },
    { "priority", cmd_priority, "set a download's priority: {hash, priority: low|normal|high}" },
    { "pause", cmd_pause, "pause a download: {hash}" },
    { "resume", cmd_resume, "resume a paused or stopped download: {hash}" },
    { "stop", cmd_stop, "stop a download: {hash}" },
    { "delete", cmd_delete, "delete a download, forget a finished one, or remove a complete file with delete_files: {hash, delete_files}" },
    { "set-category", cmd_set_category, "set a download's category (an existing one; \"\" or null: none): {hash, category}" },
    { "tags-add", cmd_tags_add, "add tags to a download: {hash, tags: [..] or \"a,b\"}" },
    { "tags-remove", cmd_tags_remove, "remove tags from a download (all without tags): {hash, tags}" },
    { "share-limits", cmd_share_limits, "set a download's share limits (-2 global, -1 unlimited): {hash, ratio_limit, seeding_time_limit}" },
    { "force-start", cmd_force_start, "set or clear force start (true also resumes): {hash, value}" },
    { "tags", cmd_tags, "the node's tag list (qBittorrent's createTags / deleteTags)" },
    { "tag-create", cmd_tag_create, "add tags to the node's tag list: {tags: [..] or \"a,b\"}" },
    { "tag-delete", cmd_tag_delete, "remove tags from the node's tag list and from every download: {tags}" },
    { "rename", cmd_rename, "rename a download's file (a finished one on disk, in its directory): {hash, name}" },
    { "set-location", cmd_set_location, "move a finished download's file, or set where an active one completes (inside incoming_dir or download_roots): {hash, location}" },
    { "recheck", cmd_recheck, "verify a download's parts again (a finished file is hashed again): {hash}" },
    { "reannounce", cmd_reannounce, "ask a download's sources, and the server, for sources now: {hash}" },
    { "rate-limits", cmd_rate_limits, "set a download's own rate limits in bytes/s (0: none): {hash, dl_limit, up_limit}" },
    { "shared", cmd_shared, "list the shared files" },
    { "rescan", cmd_rescan, "scan the shared directories again" },
    { "uploads", cmd_uploads, "upload slots and queue" },
    { "limits", cmd_limits, "get or set {max_upload, max_download, alt_max_upload, alt_max_download} in KiB/s (0: unlimited) and {alt_mode}" },
    { "settings", cmd_settings, "get or set {max_connections, upload_slots, tcp_port}, saved to the configuration file (tcp_port after a restart: restart_needed)" },
    { "share-config", cmd_share_config, "get or set the global share limits, saved to the configuration file: {max_ratio (-1: none), max_seeding_time (minutes, -1: none), max_ratio_act (0 stop, 1 remove, 2 stop, 3 remove with the file)}" },
    { "connect", srv_cmd_connect, "connect to an eD2K server: {host, port}" },
    { "disconnect", srv_cmd_disconnect, "disconnect from the eD2K server" },
    { "server", srv_cmd_server, "the eD2K server connection" },
    { "servers", sl_cmd_servers, "the server list and recent imports" },
    { "server-add", sl_cmd_server_add, "add a server: {address, port, priority, static}" },
    { "server-remove", sl_cmd_server_remove, "remove a server: {address, port}" },
    { "categories", cat_cmd_list, "the download categories" },
    { "category-add", cat_cmd_add, "add a category: {name, incoming_path, priority, colour, comment}" },
    { "category-edit", cat_cmd_edit, "change or rename a category: {name, new_name, incoming_path, priority, colour, comment}" },
    { "category-remove", cat_cmd_remove, "remove a category (its downloads keep going, without one): {name}" },
    { "category-set", cat_cmd_set, "add categories or change their paths, all or none: {categories: [{name, incoming_path}], dry_run}" },
    { "search", search_cmd_search, "start a search: {query, scope: global|local}; returns its id" },
    { "search-results", search_cmd_results, "a search and its results: {id, offset, limit}" },
    { "search-more", search_cmd_more, "ask the server for the next page of a search: {id}" },
    { "search-stop", search_cmd_stop, "stop a search: {id}" },
    { "searches", search_cmd_list, "the searches in memory" },
    { "servers-import", sl_cmd_servers_import, "import servers: {source: server.met path, http(s) URL or ed2k server/serverlist link}" },
    { "parts", cmd_parts, "a download's parts: {hash}; states (0 missing, 1 partly there, 2 verified) and hashes" },
    { "log", cmd_log, "recent log lines after an id: {since, limit}" },
    { "peer-log", cmd_peer_log, "recent peer bans after an id: {since, limit}" },
    { "config", cfg_cmd_config, "the run-time configuration keys in force" },
    { "config-set", cfg_cmd_config_set, "change run-time configuration keys, at once and in the configuration file: {key: value, ...}" },
    { "kad-status", kad_cmd_status, "the Kad node: state, id, contacts; {contacts: true} lists them" },
    { "kad-import", kad_cmd_import, "add the contacts of a nodes.dat file: {source: path}" },
    { "kad-bootstrap", kad_cmd_bootstrap, "ask a Kad node for contacts: {address, port (its UDP port)}" },
    { "kad-lookup", kad_cmd_lookup, "a Kad node lookup: {target} starts one, {lookup} reads it" },
    { "kad-connect", kad_cmd_connect, "Kad on again after kad-disconnect: the saved contacts verified" },
    { "kad-disconnect", kad_cmd_disconnect, "no Kad traffic until kad-connect; contacts kept" },
    { "hooks", hooks_cmd_stats, "the hook programs and webhooks: running, queued, started, failed, killed, dropped; delivered, retried" },
    { "hooks-test", hooks_cmd_test, "fire a test event: run its hook program and send its webhooks: {event: added|completed|failed|disk_full, hash, name, size, path, category, error}" },
    { "ipfilter", ipfilter_cmd_status, "the IP filter: source, ranges, bad lines, loaded at, hits" },
    { "ipfilter-reload", ipfilter_cmd_reload, "load the IP filter list again (file or URL)" },
    { "import-amule", imp_cmd_import, "import an aMule or eMule configuration directory (downloads in progress, categories, servers, nodes, credits, known files, shared directories): {dir, kind: amule|emule, dry_run, move, limits}" },
    { "metrics", cmd_metrics, "counters and gauges for the Prometheus endpoint: bytes, rates, downloads and sources by state, server, database" },
};

/* The commands another node may send through the database (the command
 * relay, docs/cluster.md): not those that read a file or start a program
 * on this host (servers-import, kad-import, hooks-test), nor the socket's
 * own (help, subscribe). */
static const char *const relay_commands[] = {
    "ping", "status", "add", "downloads", "priority", "pause", "resume", "stop", "delete",
    "set-category", "tags-add", "tags-remove", "share-limits", "force-start", "tags",
    "tag-create", "tag-delete", "rename", "set-location", "recheck", "reannounce",
    "rate-limits", "shared", "rescan", "uploads", "limits", "settings", "share-config",
    "connect", "disconnect", "server", "servers", "server-add", "server-remove", "categories",
    "category-add", "category-edit", "category-remove", "category-set", "search",
    "search-results", "search-more", "search-stop", "searches", "parts", "log", "peer-log",
    "config", "config-set", "kad-status", "kad-bootstrap", "hooks", "ipfilter",
    "ipfilter-reload", "metrics",
};

static bool
relay_allows(const char *command)
{
    for (size_t i = 0; i < sizeof relay_commands / sizeof relay_commands[0]; i++)
        if (strcmp(relay_commands[i], command) == 0)
            return true;
    return false;
}

/* relay_exec: the command relay's hook: a command from another node, run
 * through the control socket's table. */
static void
relay_exec(void *ctx, const char *command, const char *args, relay_answer_t *out)
{
    muleteerd_t *d = ctx;
    json_object *a = json_tokener_parse(args);
    json_object *res = NULL;
    mt_error_t *err = NULL;
    if (!relay_allows(command))
        mt_error_set(&err, MT_ERR_UNSUPPORTED, "%s cannot be sent to another node", command);
    else if (a == NULL || !json_object_is_type(a, json_type_object))
        mt_error_set(&err, MT_ERR_INVALID, "args: not a JSON object");
    else if (d->ctl == NULL)
        mt_error_set(&err, MT_ERR_UNAVAILABLE, "the daemon is stopping");
    if (err == NULL && ctlsrv_call(d->ctl, command, a, &res, &err) == 0) {
        out->result = xstrdup(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
    } else {
        out->error_code = xstrdup(ctl_errcode_name(
            err != NULL ? ctl_errcode_from_mt(err->code) : CTL_E_INTERNAL));
        out->error_message = xstrdup(err != NULL ? err->message : "command failed");
    }
    json_object_put(res);
    json_object_put(a);
    mt_error_free(err);
}

static void
job_status(void *ctx)
{
    status_publish(ctx, false);
}

/* publish_tick: the transfer totals of this tick, on the bus. */
static void
publish_tick(muleteerd_t *d)
{
    static uint64_t last_down, last_up;
    uint64_t down = 0, up = 0;
    peer_mgr_totals(d->peers, &down, &up);
    bus_tick_t t = {
        .down_bytes = down >= last_down ? down - last_down : 0,
        .up_bytes = up >= last_up ? up - last_up : 0,
        .down_total = down,
        .up_total = up,
        .down_rate = dlq_rate(d->downloads),
        .up_rate = ulq_rate(d->uploads),
        .downloads = dlq_count(d->downloads),
        .finished = fin_count(d->finished),
        .connections = peer_mgr_connections(d->peers),
        .upload_slots = ulq_slots_used(d->uploads),
    };
    last_down = down;
    last_up = up;
    bus_publish_tick(d->bus, &t);
}

static void
job_transfers(void *ctx)
{
    muleteerd_t *d = ctx;
    peer_mgr_tick(d->peers);
    sl_tick(d->serverlist);
    search_tick(d->searches);
    dbs_tick(d->dbsync);
    hist_tick(d->history);
    cat_tick(d->categories);
    tagl_tick(d->tags);
    fin_tick(d->finished);
    srv_tick(d->server);
    dlq_tick(d->downloads);
    ulq_tick(d->uploads);
    kad_tick(d->kad);
    ipblock_tick(d->ipfilter);
    publish_tick(d);
}

/* The finished downloads that reached their share limits (finished.h). */
static void
job_share_limits(void *ctx)
{
    muleteerd_t *d = ctx;
    fin_check_share_limits(d->finished, (int64_t)time(NULL));
}

static void
job_rescan(void *ctx)
{
    muleteerd_t *d = ctx;
    static time_t last;
    time_t now = time(NULL);
    long long every = conf_get_int(d->conf, "rescan_interval");
    if (every > 0 && now - last >= every) {
        last = now;
        shared_rescan(d->shared, NULL, NULL);
    }
}

/* Writes the count of repeated log lines held back (log.h). */
static void
job_log(void *ctx)
{
    (void)ctx;
    log_tick();
}

/* Gives the heap's free pages back to the system. Big transient
 * allocations (the known-files cache written as one JSON tree, long
 * control replies) leave free memory that glibc keeps otherwise. */
static void
job_trim(void *ctx)
{
    (void)ctx;
    malloc_trim(0);
}

/* The periodic job table; intervals from the configuration are applied in
 * apply_intervals(). */
/* Saves the credit table when it changed (transfer/ident.h). */
static void
job_credits(void *ctx)
{
    muleteerd_t *d = ctx;
    ident_tick(d->ident);
}

static periodic_job_t periodic_jobs[] = {
    { "status", 5000, job_status, 1 },
    { "transfers", 1000, job_transfers, 0 },
    { "rescan", 60000, job_rescan, 0 },
    { "share_limits", 5000, job_share_limits, 0 },
    { "trim", 10000, job_trim, 0 },
    { "log", 1000, job_log, 0 },
    { "credits", 1000, job_credits, 0 }, /* saves every save_interval when changed */
};

static void
apply_intervals(muleteerd_t *d)
{
    int ms = (int)conf_get_int(d->conf, "status_interval") * 1000;
    if (d->periodic != NULL)
        periodic_set_interval(d->periodic, "status", ms);
    else
        periodic_jobs[0].interval_ms = ms;
}

/* Part files borrow their descriptors from a cache of max_open_files
 * (partfile.h). It never takes more than a quarter of the process's limit
 * on open files, so that connections, the database and the log keep room
 * whatever the number of downloads. */
static void
apply_open_files(const muleteerd_t *d)
{
    long long want = conf_get_int(d->conf, "max_open_files"), max = want;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        long long quarter = (long long)rl.rlim_cur / 4;
        if (max > quarter)
            max = quarter > 1 ? quarter : 1;
    }
    if (max < want)
        log_warn("max_open_files %lld is more than a quarter of the open file limit (%lld); "
                 "part files use at most %lld descriptors",
                 want, (long long)rl.rlim_cur, max);
    pf_set_max_open_files((size_t)max);
}

/* reconcile_history: the history rows of downloads that are gone, or of
 * an older version, against the downloads loaded at start. */
static void
reconcile_history(muleteerd_t *d)
{
    size_t n = dlq_count(d->downloads), m = fin_count(d->finished);
    hist_live_t *live = xcalloc(n + m + 1, sizeof *live);
    char(*hex)[33] = xcalloc(n + m + 1, sizeof *hex);
    for (size_t i = 0; i < n; i++) {
        partfile_t *pf = dl_partfile(dlq_get(d->downloads, i));
        ed2k_hash_to_hex(pf_hash(pf), hex[i]);
        live[i] = (hist_live_t){ .download_id = pf_download_id(pf), .hex = hex[i], .active = true,
                                 .stopped = pf_state(pf) == PF_STATE_STOPPED };
    }
    for (size_t i = 0; i < m; i++) {
        fin_rec_t *r = fin_get(d->finished, i);
        live[n + i] = (hist_live_t){ .download_id = fin_download_id(r), .hex = fin_hex(r) };
    }
    hist_reconcile(d->history, live, n + m);
    free(hex);
    free(live);
}

/* ensure_dir is below; declared here for main's start-up. */
static int ensure_dir(const char *path, mt_error_t **err);

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: muleteerd [-c FILE] [--migrate | --check-config]\n"
            "\n"
            "  -c, --config FILE  configuration file (default: $MULETEER_CONF, else\n"
            "                     $MULETEER_VAR/muleteer.conf, else var/muleteer.conf)\n"
            "      --migrate      apply database migrations and exit\n"
            "      --check-config check the configuration file and exit\n"
            "  -V, --version      print the version and exit\n"
            "  -h, --help         this help\n"
            "\n"
            "muleteerd runs in the foreground and logs to stderr or log_file.\n"
            "SIGTERM/SIGINT stop it; SIGHUP reloads the configuration and reopens the log.\n");
}

static conf_t *
load_conf(const char *file, mt_error_t **err)
{
    conf_t *conf = conf_new();
    if (conf_load_file(conf, file, err) != 0) {
        conf_free(conf);
        return NULL;
    }
    return conf;
}

static int
run_migrations(const conf_t *conf)
{
    mt_error_t *err = NULL;
    PGconn *c = db_connect(conf_get_str(conf, "database"), "muleteerd-migrate",
                           (int)conf_get_int(conf, "db_connect_timeout"), &err);
    int applied = 0, version = 0;
    if (c == NULL || db_migrate(c, db_migrations, db_n_migrations, &applied, &err) != 0 ||
        db_schema_version(c, &version, &err) != 0) {
        fprintf(stderr, "muleteerd: %s\n", err->message);
        mt_error_free(err);
        PQfinish(c);
        return 1;
    }
    PQfinish(c);
    printf("database schema at version %d (%d migration%s applied now)\n", version, applied,
           applied == 1 ? "" : "s");
    return 0;
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    muleteerd_t *d = arg;
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(d->base, NULL);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    muleteerd_t *d = arg;
    mt_error_t *err = NULL;
    conf_t *conf = load_conf(d->conf_file, &err);
    if (conf == NULL) {
        log_error("SIGHUP: keeping the running configuration: %s", err->message);
        mt_error_free(err);
        return;
    }
    if (log_open(conf_get_str(conf, "log_file"), &err) != 0) {
        log_error("SIGHUP: %s", err->message);
        mt_error_clear(&err);
    }
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse(conf_get_str(conf, "log_level"), &level);
    log_set_level(level);
    static const char *const restart_str[] = { "node_name", "database", "control_socket",
                                               "state_dir", "schedule_timezone" };
    static const char *const restart_int[] = { "tcp_port", "udp_port" };
    for (size_t i = 0; i < sizeof restart_str / sizeof restart_str[0]; i++)
        if (strcmp(conf_get_str(conf, restart_str[i]), conf_get_str(d->conf, restart_str[i])) != 0)
            log_warn("SIGHUP: a change to %s takes effect after a restart", restart_str[i]);
    for (size_t i = 0; i < sizeof restart_int / sizeof restart_int[0]; i++)
        if (conf_get_int(conf, restart_int[i]) != conf_get_int(d->conf, restart_int[i]))
            log_warn("SIGHUP: a change to %s takes effect after a restart", restart_int[i]);
    if (conf_get_bool(conf, "kad") != conf_get_bool(d->conf, "kad"))
        log_warn("SIGHUP: a change to kad takes effect after a restart");
    conf_free(d->conf);
    d->conf = conf;
    apply_intervals(d);
    apply_open_files(d);
    fin_share_limits_changed(d->finished);
    ipblock_conf_changed(d->ipfilter);
    lsched_reload(d->limit_schedule);
    portmap_reload(d->portmap, d);
    log_info("SIGHUP: configuration reloaded from %s", d->conf_file);
}

static int
ensure_dir(const char *path, mt_error_t **err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            mt_error_set(err, MT_ERR_INVALID, "state_dir %s is not a directory", path);
            return -1;
        }
        return 0;
    }
    if (mkdir(path, 0750) != 0) {
        mt_error_set(err, MT_ERR_IO, "cannot create state_dir %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
#ifdef M_ARENA_MAX
    /* glibc gives each thread that allocates its own arena; the workers'
     * short-lived buffers would keep several mostly empty ones resident
     * (a fifth of the daemon's memory with 10,000 shared files). */
    mallopt(M_ARENA_MAX, 2);
#endif
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread */
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "migrate", no_argument, NULL, 'm' },
        { "check-config", no_argument, NULL, 'k' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *conf_file = NULL;
    int migrate_only = 0, check_only = 0, opt;
    while ((opt = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            free(conf_file);
            conf_file = xstrdup(optarg);
            break;
        case 'm':
            migrate_only = 1;
            break;
        case 'k':
            check_only = 1;
            break;
        case 'V':
            printf("muleteerd %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "muleteerd: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (conf_file == NULL)
        conf_file = conf_default_file();

    log_set_ident("muleteerd");
    mt_error_t *err = NULL;
    conf_t *conf = load_conf(conf_file, &err);
    if (conf == NULL) {
        fprintf(stderr, "muleteerd: %s\n", err->message);
        mt_error_free(err);
        free(conf_file);
        return 1;
    }
    if (check_only) {
        printf("%s: configuration OK\n", conf_file);
        conf_free(conf);
        free(conf_file);
        return 0;
    }
    if (migrate_only) {
        int rc = run_migrations(conf);
        conf_free(conf);
        free(conf_file);
        return rc;
    }

    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse(conf_get_str(conf, "log_level"), &level);
    log_set_level(level);
    if (log_open(conf_get_str(conf, "log_file"), &err) != 0) {
        fprintf(stderr, "muleteerd: %s\n", err->message);
        mt_error_free(err);
        conf_free(conf);
        free(conf_file);
        return 1;
    }

    lsched_apply_timezone(conf_get_str(conf, "schedule_timezone")); /* before any thread */
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();

    muleteerd_t d = { 0 };
    d.conf = conf;
    d.conf_file = conf_file;
    d.started_at = time(NULL);
    clock_gettime(CLOCK_MONOTONIC, &d.started_mono);
    d.base = event_base_new();
    if (d.base == NULL) {
        log_error("cannot create the event loop");
        return 1;
    }
    d.bus = bus_new();
    cmd_log_start(&d);                         /* before the tap: every line */
    logtap_t *tap = logtap_new(d.base, d.bus); /* log lines on the bus */
    int rc = 1;
    relay_t *relay = NULL;
    if (ensure_dir(conf_get_str(conf, "state_dir"), &err) != 0)
        goto out;
    d.ctl = ctlsrv_new(d.base, conf_get_str(conf, "control_socket"), commands,
                       sizeof commands / sizeof commands[0], &d, &err);
    if (d.ctl == NULL)
        goto out;
    evstream_start(&d); /* the bus on the control socket (`subscribe`) */
    d.db = dbw_new(conf_get_str(conf, "database"), (int)conf_get_int(conf, "db_connect_timeout"),
                   100000);
    if (dbw_start(d.db, &err) != 0)
        goto out;
    /* commands from the other nodes, through the database */
    relay = relay_new(d.base, conf_get_str(conf, "database"),
                      (int)conf_get_int(conf, "db_connect_timeout"),
                      conf_get_str(conf, "node_name"), relay_exec, &d);
    if (relay_start(relay, &err) != 0)
        goto out;

    /* The transfer engine. */
    char *hash_file = xasprintf("%s/userhash", conf_get_str(conf, "state_dir"));
    int idrc = identity_load(hash_file, d.userhash, &err);
    free(hash_file);
    if (idrc != 0 || ensure_dir(conf_get_str(conf, "incoming_dir"), &err) != 0 ||
        ensure_dir(conf_get_str(conf, "temp_dir"), &err) != 0)
        goto out;
    apply_open_files(&d);
    d.workers = worker_pool_new(d.base, (int)conf_get_int(conf, "worker_threads"));
    char *cache = xasprintf("%s/known.json", conf_get_str(conf, "state_dir"));
    d.shared = shared_new(d.base, d.workers, cache, conf_get_str(conf, "shared_dirs"),
                          conf_get_str(conf, "incoming_dir"));
    free(cache);
    shared_set_bus(d.shared, d.bus);
    /* before the first scan, which then shares the finished files too */
    d.finished = finished_new(&d);
    if (fin_needs_import(d.finished))
        fin_import_legacy(d.finished);
    shared_rescan(d.shared, NULL, NULL);
    d.ipfilter = ipblock_new(&d); /* asked by peers, sources and servers */
    d.peers = peer_mgr_new(&d);
    /* the download side first: packets go to it first (peer.h) */
    d.downloads = dlq_new(&d);
    d.uploads = ulq_new(&d);
    if ((d.ident = ident_new(&d, &err)) == NULL) /* secure ident and credits */
        goto out;
    d.serverlist = sl_new(&d);
    d.server = srv_new(&d);
    d.searches = search_new(&d);
    d.dbsync = dbs_new(&d);
    d.history = hist_new(&d);
    d.categories = cat_new(&d);
    d.tags = tagl_new(&d);
    d.hooks = hooks_new(&d); /* programs and webhooks on the bus's download events */
    d.limit_schedule = lsched_new(&d); /* after the peers: it may switch their limits */
    if (peer_mgr_listen(d.peers, (uint16_t)conf_get_int(conf, "tcp_port"), &err) != 0 ||
        ulq_listen_udp(d.uploads, (uint16_t)conf_get_int(conf, "udp_port"), &err) != 0 ||
        dlq_load(d.downloads, &err) != 0 || (d.kad = kad_new(&d, &err)) == NULL)
        goto out;
    kad_set_results_sink(d.kad, search_kad_results, d.searches);
    search_set_kad(d.searches, start_kad_search, &d);
    reconcile_history(&d);
    d.portmap = portmap_new(&d); /* after the listeners: maps their ports */

    d.sig_term = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
    d.sig_int = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
    d.sig_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
    evsignal_add(d.sig_term, NULL);
    evsignal_add(d.sig_int, NULL);
    evsignal_add(d.sig_hup, NULL);

    apply_intervals(&d);
    d.periodic = periodic_new(d.base, periodic_jobs,
                              sizeof periodic_jobs / sizeof periodic_jobs[0], &d);

    log_info("muleteerd %s started: node %s, pid %ld, control socket %s", PACKAGE_VERSION,
             conf_get_str(conf, "node_name"), (long)getpid(), ctlsrv_path(d.ctl));
    event_base_dispatch(d.base);

    /* Orderly shutdown: stop taking commands, tell peers, save every part
     * file, let workers finish, record the stop, let the database worker
     * finish what it can within a few seconds. */
    periodic_free(d.periodic);
    d.periodic = NULL;
    relay_free(relay); /* before the commands go: it runs them */
    relay = NULL;
    ctlsrv_free(d.ctl);
    d.ctl = NULL;
    dlq_shutdown(d.downloads);
    portmap_free(d.portmap); /* removes the mappings, waiting a few seconds */
    d.portmap = NULL;        /* so that the last status says off */
    status_publish(&d, true);
    rc = 0;
out:
    relay_free(relay);
    relay = NULL;
    if (d.workers != NULL) {
        worker_pool_drain(d.workers, 10000);
        worker_pool_free(d.workers); /* runs the last completions */
        d.workers = NULL;
    }
    portmap_free(d.portmap); /* when the start failed half-way */
    /* the higher modules go first: they unhook from the lower ones */
    kad_free(d.kad); /* saves nodes.dat */
    lsched_free(d.limit_schedule);
    hooks_free(d.hooks);
    search_free(d.searches);
    srv_free(d.server);
    sl_free(d.serverlist);
    dbs_free(d.dbsync);
    hist_free(d.history);
    cat_free(d.categories);
    tagl_free(d.tags);
    ident_free(d.ident); /* saves the credits */
    ulq_free(d.uploads);
    dlq_free(d.downloads);
    finished_free(d.finished); /* saves changed counters */
    pf_close_files();
    peer_mgr_free(d.peers);
    ipblock_free(d.ipfilter);
    shared_free(d.shared);
    if (d.db != NULL)
        dbw_stop(d.db, 3000);
    if (rc == 0)
        log_info("muleteerd stopped");
    if (err != NULL) {
        log_error("%s", err->message);
        mt_error_free(err);
    }
    periodic_free(d.periodic);
    ctlsrv_free(d.ctl);
    dbw_free(d.db);
    if (d.sig_term != NULL) {
        event_free(d.sig_term);
        event_free(d.sig_int);
        event_free(d.sig_hup);
    }
    logtap_free(tap);
    cmd_log_stop(&d);
    evstream_stop(&d);
    bus_free(d.bus);
    event_base_free(d.base);
    conf_free(d.conf);
    free(d.conf_file);
    log_close();
    libevent_global_shutdown();
    return rc;
}
