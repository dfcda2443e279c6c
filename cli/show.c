/* show.c: the daemon's answers printed for people: one printer for each
 * command of muleteer.c's table (show.h), and what they share. */
#include "config.h"

#include "show.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/xalloc.h"

/* ---- reading the answers ---- */

/* str_or: the string under key, or dflt when it is missing or null. */
static const char *
str_or(json_object *o, const char *key, const char *dflt)
{
    json_object *v = NULL;
    if (o != NULL && json_object_object_get_ex(o, key, &v) && v != NULL)
        return json_object_get_string(v);
    return dflt;
}

/* opt: the string under key, or "" when it is missing or null. */
static const char *
opt(json_object *o, const char *key)
{
    return str_or(o, key, "");
}

/* str: the string under key, or "?" when it is missing or null. */
static const char *
str(json_object *o, const char *key)
{
    return str_or(o, key, "?");
}

static long long
num(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o != NULL && json_object_object_get_ex(o, key, &v) && v != NULL)
        return json_object_get_int64(v);
    return 0;
}

static void
format_duration(long long s, char *buf, size_t len)
{
    if (s >= 86400)
        snprintf(buf, len, "%lldd %lldh %lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
    else if (s >= 3600)
        snprintf(buf, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(buf, len, "%lldm %llds", s / 60, s % 60);
    else
        snprintf(buf, len, "%llds", s);
}

static void
human_size(long long n, char *buf, size_t len)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* ---- printing the answers ---- */

void
show_json(json_object *o)
{
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
print_server(json_object *srv)
{
    if (srv == NULL)
        return;
    json_object *lowid = NULL;
    if (strcmp(str(srv, "state"), "connected") == 0) {
        json_object_object_get_ex(srv, "lowid", &lowid);
        printf("eD2K server:     %s:%lld (%s), %s %lld, %lld users, %lld files\n", str(srv, "host"),
               num(srv, "port"), str(srv, "name"),
               lowid != NULL && json_object_get_boolean(lowid) ? "LowID" : "HighID",
               num(srv, "client_id"), num(srv, "users"), num(srv, "files"));
    } else {
        json_object *host = NULL;
        json_object_object_get_ex(srv, "host", &host);
        if (host != NULL)
            printf("eD2K server:     %s (%s:%lld)\n", str(srv, "state"), str(srv, "host"),
                   num(srv, "port"));
        else
            printf("eD2K server:     %s\n", str(srv, "state"));
    }
}

/* print_portmap: the port forwarding's state, ports and last error. */
static void
print_portmap(json_object *pf)
{
    const char *state = str(pf, "state");
    printf("port forwarding: %s", state);
    if (strcmp(state, "mapped") == 0) {
        printf(" by %s on %s:", str(pf, "method"), str_or(pf, "external_ip", "the router"));
        json_object *ports = NULL;
        json_object_object_get_ex(pf, "ports", &ports);
        size_t n = ports != NULL ? json_object_array_length(ports) : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *p = json_object_array_get_idx(ports, i);
            const char *proto = str(p, "protocol");
            printf("%s %s %lld", i ? "," : "", strcmp(proto, "tcp") == 0 ? "TCP" : "UDP",
                   num(p, "external_port"));
        }
        printf(" (lease %lld s)", num(pf, "lease"));
    }
    json_object *v = NULL;
    if (json_object_object_get_ex(pf, "error", &v) && v != NULL)
        printf(", last error: %s", json_object_get_string(v));
    if (json_object_object_get_ex(pf, "next_in", &v) && v != NULL)
        printf(", %s in %lld s", strcmp(state, "mapped") == 0 ? "renewal" : "retry",
               (long long)json_object_get_int64(v));
    printf("\n");
}

int
show_status(ctl_client_t *c, const request_t *req, json_object *r)
{
    char up[64];
    format_duration(num(r, "uptime"), up, sizeof up);
    printf("muleteerd %s on node %s, pid %lld, up %s (since %s)\n", str(r, "version"),
           str(r, "node"), num(r, "pid"), up, str(r, "started_at"));
    json_object *db = NULL;
    json_object_object_get_ex(r, "database", &db);
    json_object *connected = NULL;
    if (db != NULL && json_object_object_get_ex(db, "connected", &connected) &&
        json_object_get_boolean(connected))
        printf("database:        connected, schema version %lld, %lld job(s) queued\n",
               num(db, "schema_version"), num(db, "queued"));
    else
        printf("database:        NOT CONNECTED since %s: %s\n", str(db, "since"),
               str(db, "error"));
    printf("eD2K ports:      TCP %lld, UDP %lld\n", num(r, "tcp_port"), num(r, "udp_port"));
    json_object *srv = NULL, *t = NULL, *kad = NULL;
    if (json_object_object_get_ex(r, "server", &srv))
        print_server(srv);
    if (json_object_object_get_ex(r, "kad", &kad))
        printf("Kad:             %s, %lld contact(s)\n", str(kad, "state"), num(kad, "contacts"));
    json_object *pf = NULL;
    if (json_object_object_get_ex(r, "port_forwarding", &pf))
        print_portmap(pf);
    if (json_object_object_get_ex(r, "transfers", &t)) {
        printf("transfers:       %lld download(s) at %lld B/s, %lld shared file(s), uploading "
               "%lld B/s in %lld slot(s), %lld queued, %lld connection(s)\n",
               num(t, "downloads"), num(t, "download_rate"), num(t, "shared_files"),
               num(t, "upload_rate"), num(t, "upload_slots"), num(t, "upload_queue"),
               num(t, "connections"));
    }
    printf("control socket:  %s\n", str(r, "control_socket"));
    printf("config file:     %s\n", str(r, "config_file"));
    return EXIT_OK;
}

int
show_pong(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("pong\n");
    return EXIT_OK;
}

int
show_help(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(r, "commands", &list) ||
        !json_object_is_type(list, json_type_array)) {
        show_json(r);
        return EXIT_OK;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        printf("  %-18s %s\n", str(e, "name"), str(e, "summary"));
    }
    return EXIT_OK;
}

static void
print_download(json_object *d)
{
    char size[32], rate[32];
    human_size(num(d, "size"), size, sizeof size);
    human_size(num(d, "rate"), rate, sizeof rate);
    json_object *prog = NULL, *src = NULL;
    json_object_object_get_ex(d, "progress", &prog);
    json_object_object_get_ex(d, "sources", &src);
    printf("%s  %5.1f%%  %-11s %10s %10s/s  %lld/%lld sources  %s\n", str(d, "hash"),
           prog != NULL ? json_object_get_double(prog) * 100.0 : 0.0, str(d, "state"), size, rate,
           num(src, "transferring"), num(src, "total"), str(d, "name"));
    /* sources that were offered but not taken, and why */
    json_object *dropped = NULL;
    if (json_object_object_get_ex(d, "sources_dropped", &dropped) &&
        json_object_is_type(dropped, json_type_object)) {
        const char *sep = "    sources dropped: ";
        json_object_object_foreach(dropped, why, n) {
            if (json_object_get_int64(n) > 0) {
                printf("%s%lld %s", sep, (long long)json_object_get_int64(n), why);
                sep = ", ";
            }
        }
        if (sep[0] == ',')
            printf("\n");
    }
    /* why it is in the error state */
    json_object *error = NULL;
    if (json_object_object_get_ex(d, "error", &error) &&
        json_object_is_type(error, json_type_string))
        printf("    error: %s\n", json_object_get_string(error));
}

int
show_downloads(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(r, "downloads", &list) ||
        json_object_array_length(list) == 0) {
        printf("no downloads\n");
        return EXIT_OK;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++)
        print_download(json_object_array_get_idx(list, i));
    return EXIT_OK;
}

/* show_download: the answer to add, pause, resume, stop and priority. */
int
show_download(ctl_client_t *c, const request_t *req, json_object *r)
{
    print_download(r);
    return EXIT_OK;
}

int
show_deleted(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("deleted the %s%s%s\n", str(r, "deleted"),
           strcmp(str(r, "deleted"), "file") == 0 ? " " : "",
           strcmp(str(r, "deleted"), "file") == 0 ? str(r, "path") : "");
    return EXIT_OK;
}

int
show_shared(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(r, "files", &list) || json_object_array_length(list) == 0) {
        printf("no shared files\n");
        return EXIT_OK;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *f = json_object_array_get_idx(list, i);
        char size[32];
        human_size(num(f, "size"), size, sizeof size);
        printf("%s %10s  %s\n", str(f, "hash"), size, str(f, "path"));
    }
    return EXIT_OK;
}

int
show_rescan(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("scanning the shared directories\n");
    return EXIT_OK;
}

int
show_uploads(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *slots = NULL;
    json_object_object_get_ex(r, "slots", &slots);
    char rate[32];
    human_size(num(r, "rate"), rate, sizeof rate);
    printf("uploading %s/s in %zu slot(s), %lld client(s) queued\n", rate,
           slots != NULL ? json_object_array_length(slots) : 0, num(r, "queued"));
    for (size_t i = 0; slots != NULL && i < json_object_array_length(slots); i++) {
        json_object *e = json_object_array_get_idx(slots, i);
        char sent[32];
        human_size(num(e, "sent"), sent, sizeof sent);
        printf("  %s  %10s sent  %s\n", str(e, "hash"), sent, str(e, "peer"));
    }
    return EXIT_OK;
}

int
show_limits(ctl_client_t *c, const request_t *req, json_object *r)
{
    if (num(r, "max_upload") > 0)
        printf("upload limit:   %lld KiB/s\n", num(r, "max_upload"));
    else
        printf("upload limit:   none\n");
    if (num(r, "max_download") > 0)
        printf("download limit: %lld KiB/s\n", num(r, "max_download"));
    else
        printf("download limit: none\n");
    json_object *alt = NULL;
    if (json_object_object_get_ex(r, "alt_mode", &alt)) {
        char up[32] = "none", down[32] = "none";
        if (num(r, "alt_max_upload") > 0)
            snprintf(up, sizeof up, "%lld KiB/s", num(r, "alt_max_upload"));
        if (num(r, "alt_max_download") > 0)
            snprintf(down, sizeof down, "%lld KiB/s", num(r, "alt_max_download"));
        printf("alternative:    up %s, down %s (%s)\n", up, down,
               json_object_get_boolean(alt) ? "in force" : "off");
    }
    printf("rates now:      up %lld B/s, down %lld B/s\n", num(r, "upload_rate"),
           num(r, "download_rate"));
    return EXIT_OK;
}

/* limit_text: bytes/s as "N KiB/s", or "none" for 0. */
static void
limit_text(long long bps, char *buf, size_t n)
{
    if (bps > 0)
        snprintf(buf, n, "%lld KiB/s", (bps + 1023) / 1024);
    else
        snprintf(buf, n, "none");
}

int
show_rate_limits(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)c;
    (void)req;
    char down[32], up[32];
    limit_text(num(r, "dl_limit"), down, sizeof down);
    limit_text(num(r, "up_limit"), up, sizeof up);
    printf("%s  %s\n", str(r, "hash"), str(r, "name"));
    printf("download limit: %s\n", down);
    printf("upload limit:   %s\n", up);
    return EXIT_OK;
}

int
show_schedule(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)req;
    json_object *v = NULL;
    bool on = json_object_object_get_ex(r, "scheduler_enabled", &v) && json_object_get_boolean(v);
    printf("schedule:       %s\n", on ? "on" : "off");
    printf("rules:          %s\n", str(r, "schedule"));
    json_object *l = NULL;
    mt_error_t *err = NULL;
    if (c == NULL) /* another node's answer: no further calls */
        return EXIT_OK;
    if (ctl_client_call(c, "limits", NULL, &l, &err) != 0) {
        mt_error_free(err);
        return EXIT_OK;
    }
    if (on) {
        bool active = json_object_object_get_ex(l, "schedule_active", &v) &&
                      json_object_get_boolean(v);
        time_t next = (time_t)num(l, "schedule_next");
        char when[64] = "never";
        struct tm tm;
        if (next > 0 && localtime_r(&next, &tm) != NULL)
            strftime(when, sizeof when, "%a %Y-%m-%d %H:%M %Z", &tm);
        printf("now:            %s; next change %s\n",
               active ? "alternative limits scheduled" : "normal limits scheduled", when);
    }
    printf("in force:       %s limits\n",
           json_object_object_get_ex(l, "alt_mode", &v) && json_object_get_boolean(v)
               ? "alternative"
               : "normal");
    json_object_put(l);
    return EXIT_OK;
}

/* show_server: the answer to connect, disconnect and server. */
int
show_server(ctl_client_t *c, const request_t *req, json_object *r)
{
    print_server(r);
    return EXIT_OK;
}

int
show_servers(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *list = json_object_object_get(r, "servers");
    if (list == NULL || json_object_array_length(list) == 0) {
        printf("no servers: add some with muleteer servers add HOST:PORT or servers import\n");
    }
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        char where[300];
        snprintf(where, sizeof where, "%s:%lld", str(e, "address"), num(e, "port"));
        printf("%s %-24s %-6s %8lld users %10lld files  ping %4lld ms  fails %lld%s  %s\n",
               json_object_get_boolean(json_object_object_get(e, "connected")) ? "*" : " ", where,
               str(e, "priority"), num(e, "users"), num(e, "files"), num(e, "ping_ms"),
               num(e, "failures"),
               json_object_get_boolean(json_object_object_get(e, "is_static")) ? " static" : "",
               str(e, "name"));
    }
    json_object *imps = json_object_object_get(r, "imports");
    for (size_t i = 0; imps != NULL && i < json_object_array_length(imps); i++) {
        json_object *m = json_object_array_get_idx(imps, i);
        printf("import %s: %s, %lld new of %lld%s%s\n", str(m, "url"), str(m, "state"),
               num(m, "added"), num(m, "total"), *opt(m, "error") != '\0' ? ": " : "",
               opt(m, "error"));
    }
    return EXIT_OK;
}

int
show_server_added(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("%s %s:%lld\n", json_object_get_boolean(json_object_object_get(r, "added"))
                              ? "added" : "already listed:",
           str(r, "address"), num(r, "port"));
    return EXIT_OK;
}

int
show_server_removed(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("removed\n");
    return EXIT_OK;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* show_import: the servers an import added; for a URL import, once the
 * daemon has fetched it. */
int
show_import(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *imp = json_object_object_get(r, "import");
    if (imp == NULL) {
        printf("%lld new server(s) of %lld\n", num(r, "added"), num(r, "total"));
        return EXIT_OK;
    }
    const char *url = str(imp, "url");
    if (c == NULL) { /* another node's answer: no further calls */
        printf("importing %s\n", url);
        return EXIT_OK;
    }
    char *want = xstrdup(url);
    for (int i = 0; i < 180; i++) {
        sleep_ms(500);
        json_object *l = NULL;
        mt_error_t *err = NULL;
        if (ctl_client_call(c, "servers", NULL, &l, &err) != 0) {
            fprintf(stderr, "muleteer: %s\n", err->message);
            mt_error_free(err);
            free(want);
            return EXIT_CMD_ERROR;
        }
        json_object *imps = json_object_object_get(l, "imports");
        for (size_t k = 0; imps != NULL && k < json_object_array_length(imps); k++) {
            json_object *m = json_object_array_get_idx(imps, k);
            if (strcmp(str(m, "url"), want) != 0 || strcmp(str(m, "state"), "fetching") == 0)
                continue;
            int st = EXIT_OK;
            if (strcmp(str(m, "state"), "done") == 0) {
                printf("%lld new server(s) of %lld from %s\n", num(m, "added"), num(m, "total"),
                       want);
            } else {
                fprintf(stderr, "muleteer: %s\n", str(m, "error"));
                st = EXIT_CMD_ERROR;
            }
            json_object_put(l);
            free(want);
            return st;
        }
        json_object_put(l);
    }
    fprintf(stderr, "muleteer: still fetching %s; see muleteer servers\n", want);
    free(want);
    return EXIT_CMD_ERROR;
}

int
show_categories(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *list = json_object_object_get(r, "categories");
    if (list == NULL || json_object_array_length(list) == 0)
        printf("no categories\n");
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
        json_object *k = json_object_array_get_idx(list, i);
        printf("%-20s %s  priority %lld  #%06llx  %s\n", str(k, "name"), str(k, "incoming_path"),
               num(k, "priority"), (unsigned long long)num(k, "colour"), str(k, "comment"));
    }
    return EXIT_OK;
}

/* show_category: the answer to category add and category edit. */
int
show_category(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("%s  %s\n", str(r, "name"), str(r, "incoming_path"));
    return EXIT_OK;
}

int
show_category_removed(ctl_client_t *c, const request_t *req, json_object *r)
{
    printf("removed; %lld download(s) without a category now\n", num(r, "downloads"));
    return EXIT_OK;
}

static void
print_result(json_object *e)
{
    char size[32];
    human_size(num(e, "size"), size, sizeof size);
    printf("%s %10s %5lld src %5lld complete  %s\n", str(e, "hash"), size, num(e, "sources"),
           num(e, "complete_sources"), str(e, "name"));
    printf("    ed2k://|file|");
    for (const char *p = str(e, "name"); *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch == '|' || ch == '%' || ch >= 0x7F)
            printf("%%%02X", ch);
        else
            putchar(ch);
    }
    printf("|%lld|%s|/\n", num(e, "size"), str(e, "hash"));
}

/* show_search: prints a search's results as they come, until it ends or
 * req->search_wait seconds pass. */
int
show_search(ctl_client_t *c, const request_t *req, json_object *started)
{
    long long id = num(started, "id");
    printf("search %lld: %s\n", id, str(started, "normalized"));
    if (c == NULL) /* another node's answer: its results with search-results */
        return EXIT_OK;
    size_t shown = 0;
    time_t end = time(NULL) + req->search_wait;
    for (;;) {
        json_object *args = json_object_new_object(), *r = NULL;
        json_object_object_add(args, "id", json_object_new_int64(id));
        json_object_object_add(args, "offset", json_object_new_int64((int64_t)shown));
        mt_error_t *err = NULL;
        int rc = ctl_client_call(c, "search-results", args, &r, &err);
        json_object_put(args);
        if (rc != 0) {
            fprintf(stderr, "muleteer: %s\n", err->message);
            mt_error_free(err);
            return EXIT_CMD_ERROR;
        }
        json_object *list = json_object_object_get(r, "results");
        for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
            print_result(json_object_array_get_idx(list, i));
        shown += list != NULL ? json_object_array_length(list) : 0;
        json_object *sr = json_object_object_get(r, "search");
        bool running = strcmp(str(sr, "state"), "running") == 0;
        if (!running || time(NULL) >= end) {
            printf("search %lld: %s, %zu result(s) from %lld server(s)%s%s\n", id,
                   running ? "still running" : str(sr, "state"), shown,
                   num(sr, "servers_asked"), *opt(sr, "error") != '\0' ? ": " : "",
                   opt(sr, "error"));
            json_object_put(r);
            return EXIT_OK;
        }
        json_object_put(r);
        fflush(stdout);
        sleep_ms(500);
    }
}

int
show_search_results(ctl_client_t *c, const request_t *req, json_object *r)
{
    json_object *sr = json_object_object_get(r, "search");
    json_object *list = json_object_object_get(r, "results");
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
        print_result(json_object_array_get_idx(list, i));
    printf("search %lld: %s, %lld result(s)\n", num(sr, "id"), str(sr, "state"),
           num(sr, "results"));
    return EXIT_OK;
}

/* show_kad: state, id and counts, then the contacts when asked for. */
int
show_kad(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)c;
    (void)req;
    printf("Kad: %s, id %s, UDP port %lld\n", str(r, "state"), str(r, "id"), num(r, "udp_port"));
    printf("contacts: %lld (%lld verified) in %lld bins; bootstrapping from %lld\n",
           num(r, "contacts"), num(r, "verified"), num(r, "bins"), num(r, "bootstrapping"));
    printf("datagrams: %lld in, %lld out, %lld dropped, %lld malformed\n", num(r, "datagrams_in"),
           num(r, "datagrams_out"), num(r, "dropped"), num(r, "malformed"));
    json_object *ext = json_object_object_get(r, "external_address");
    bool fw = json_object_get_boolean(json_object_object_get(r, "firewalled"));
    bool checking = json_object_get_boolean(json_object_object_get(r, "firewall_checking"));
    if (json_object_object_get_ex(r, "firewalled", NULL))
        printf("firewall: %s%s, address %s; %lld connect-back(s) heard, %lld check(s) answered\n",
               fw ? "firewalled" : "open", checking ? " (checking)" : "",
               ext != NULL ? json_object_get_string(ext) : "unknown",
               num(r, "firewall_connect_backs_heard"), num(r, "firewall_checks_answered"));
    if (json_object_object_get_ex(r, "udp_firewalled", NULL))
        printf("UDP firewall: %s%s; %lld test(s) asked, %lld answer(s)\n",
               json_object_get_boolean(json_object_object_get(r, "udp_firewalled")) ? "firewalled"
                                                                                    : "open",
               json_object_get_boolean(json_object_object_get(r, "udp_firewall_checking"))
                   ? " (checking)"
                   : "",
               num(r, "udp_firewall_checks_asked"), num(r, "udp_firewall_answers"));
    json_object *list = json_object_object_get(r, "contact_list");
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        printf("  %s %s:%lld tcp %lld v%lld%s\n", str(e, "id"), str(e, "address"),
               num(e, "udp_port"), num(e, "tcp_port"), num(e, "version"),
               json_object_get_boolean(json_object_object_get(e, "verified")) ? " verified" : "");
    }
    return EXIT_OK;
}

/* wait_kad_import: waits until the daemon has fetched url (kad-status's
 * imports), then says what it added. */
static int
wait_kad_import(ctl_client_t *c, const char *url)
{
    char *want = xstrdup(url);
    json_object *args = json_object_new_object();
    int st = -1;
    for (int i = 0; i < 180 && st < 0; i++) {
        sleep_ms(500);
        json_object *k = NULL;
        mt_error_t *err = NULL;
        if (ctl_client_call(c, "kad-status", args, &k, &err) != 0) {
            fprintf(stderr, "muleteer: %s\n", err->message);
            mt_error_free(err);
            st = EXIT_CMD_ERROR;
            break;
        }
        json_object *imps = json_object_object_get(k, "imports");
        for (size_t j = 0; imps != NULL && j < json_object_array_length(imps) && st < 0; j++) {
            json_object *m = json_object_array_get_idx(imps, j);
            if (strcmp(str(m, "url"), want) != 0 || strcmp(str(m, "state"), "fetching") == 0)
                continue;
            if (strcmp(str(m, "state"), "done") == 0) {
                printf("%lld new contact(s) of %lld from %s; %lld in the table\n",
                       num(m, "added"), num(m, "total"), want, num(k, "contacts"));
                st = EXIT_OK;
            } else {
                fprintf(stderr, "muleteer: %s\n", str(m, "error"));
                st = EXIT_CMD_ERROR;
            }
        }
        json_object_put(k);
    }
    if (st < 0) {
        fprintf(stderr, "muleteer: still fetching %s; see muleteer kad status\n", want);
        st = EXIT_CMD_ERROR;
    }
    json_object_put(args);
    free(want);
    return st;
}

/* show_kad_import: the contacts a nodes.dat added; for a URL (or a
 * nodeslist link), once the daemon has fetched it. */
int
show_kad_import(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)req;
    json_object *imp = json_object_object_get(r, "import");
    if (imp != NULL)
        return wait_kad_import(c, str(imp, "url"));
    printf("%lld new contact(s) of %lld; %lld in the table\n", num(r, "added"), num(r, "total"),
           num(r, "contacts"));
    return EXIT_OK;
}

/* show_added: the answer to add: a download, or for a nodeslist link the
 * Kad import (the node's fields: "bins"), for a server or serverlist link
 * the servers import. */
int
show_added(ctl_client_t *c, const request_t *req, json_object *r)
{
    if (json_object_object_get(r, "bins") != NULL)
        return show_kad_import(c, req, r);
    if (json_object_object_get(r, "import") != NULL || json_object_object_get(r, "total") != NULL)
        return show_import(c, req, r);
    return show_download(c, req, r);
}

int
show_kad_lookup(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)req;
    long long id = num(r, "lookup");
    json_object *cur = json_object_get(r);
    time_t end = time(NULL) + 30;
    while (strcmp(str(cur, "state"), "running") == 0 && time(NULL) < end) {
        sleep_ms(200);
        json_object *args = json_object_new_object(), *next = NULL;
        json_object_object_add(args, "lookup", json_object_new_int64(id));
        mt_error_t *err = NULL;
        int rc = ctl_client_call(c, "kad-lookup", args, &next, &err);
        json_object_put(args);
        if (rc != 0) {
            fprintf(stderr, "muleteer: %s\n", err->message);
            mt_error_free(err);
            json_object_put(cur);
            return EXIT_CMD_ERROR;
        }
        json_object_put(cur);
        cur = next;
    }
    printf("lookup %lld for %s: %s after %lld ms, %lld request(s), %lld answer(s), "
           "%lld timeout(s)\n",
           id, str(cur, "target"), str(cur, "state"), num(cur, "elapsed_ms"), num(cur, "requests"),
           num(cur, "answered"), num(cur, "timeouts"));
    json_object *list = json_object_object_get(cur, "closest");
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        printf("  %s %s:%lld\n", str(e, "id"), str(e, "address"), num(e, "udp_port"));
    }
    json_object_put(cur);
    return EXIT_OK;
}

int
show_hooks(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)c;
    (void)req;
    json_object *p = NULL, *w = NULL;
    json_object_object_get_ex(r, "programs", &p);
    json_object_object_get_ex(r, "webhooks", &w);
    printf("programs: %lld running, %lld queued; %lld started, %lld succeeded, %lld failed, "
           "%lld killed, %lld dropped\n",
           num(p, "running"), num(p, "queued"), num(p, "started"), num(p, "succeeded"),
           num(p, "failed"), num(p, "killed"), num(p, "dropped"));
    printf("webhooks: %lld pending; %lld queued, %lld delivered, %lld retried, %lld failed, "
           "%lld dropped\n",
           num(w, "pending"), num(w, "queued"), num(w, "delivered"), num(w, "retried"),
           num(w, "failed"), num(w, "dropped"));
    return EXIT_OK;
}

int
show_hooks_test(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)c;
    (void)req;
    printf("test event %s: program %s, %lld webhook(s) queued\n", str(r, "event"),
           str(r, "program"), num(r, "webhooks"));
    return EXIT_OK;
}

int
show_ipfilter(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)c;
    (void)req;
    const char *src = str(r, "source");
    printf("IP filter: %s, %s (level %lld, refreshed every %lld h)\n", src[0] ? src : "none",
           str(r, "state"), num(r, "level"), num(r, "refresh_hours"));
    printf("ranges: %lld (%lld line(s) read, %lld bad, %lld bytes)\n", num(r, "ranges"),
           num(r, "lines"), num(r, "bad_lines"), num(r, "memory"));
    json_object *at = json_object_object_get(r, "loaded_at");
    if (at != NULL) {
        time_t t = (time_t)json_object_get_int64(at);
        char buf[64];
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", localtime(&t));
        printf("loaded: %s from %s\n", buf, str(r, "loaded_from"));
    }
    if (json_object_object_get(r, "error") != NULL)
        printf("last error: %s\n", str(r, "error"));
    json_object *h = json_object_object_get(r, "hits");
    printf("hits: %lld (peers in %lld, peers out %lld, sources %lld, servers %lld)\n",
           num(h, "total"), num(h, "peers_in"), num(h, "peers_out"), num(h, "sources"),
           num(h, "servers"));
    return EXIT_OK;
}

/* show_import_line: one file's part of an import answer. */
static void
show_import_line(json_object *r, const char *key, const char *label, const char *count,
                 const char *extra)
{
    json_object *o = json_object_object_get(r, key);
    if (o == NULL)
        return;
    printf("%s: %s", label, str(o, "status"));
    if (json_object_object_get(o, count) != NULL)
        printf(", %lld %s", num(o, count), count);
    if (extra != NULL && json_object_object_get(o, extra) != NULL)
        printf(", %lld %s", num(o, extra), extra);
    if (json_object_object_get(o, "error") != NULL)
        printf(" (%s)", str(o, "error"));
    printf("\n");
}

int
show_import_amule(ctl_client_t *c, const request_t *req, json_object *r)
{
    (void)c;
    (void)req;
    bool dry = json_object_get_boolean(json_object_object_get(r, "dry_run"));
    printf("%s directory %s (temp %s, incoming %s)%s\n", str(r, "kind"), str(r, "dir"),
           str_or(r, "temp_dir", "none"), str_or(r, "incoming_dir", "none"),
           dry ? ": dry run, nothing changed" : "");
    json_object *a = json_object_object_get(r, "downloads");
    size_t n = a != NULL ? json_object_array_length(a) : 0;
    printf("downloads: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(a, i);
        printf("  %-12s %s %s (%lld of %lld bytes)", str(d, "status"), str(d, "hash"),
               str_or(d, "name", str(d, "met")), num(d, "present"), num(d, "size"));
        if (json_object_object_get(d, "category") != NULL)
            printf(" [%s]", str(d, "category"));
        if (json_object_object_get(d, "error") != NULL)
            printf(": %s", str(d, "error"));
        printf("\n");
    }
    a = json_object_object_get(r, "categories");
    n = a != NULL ? json_object_array_length(a) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(a, i);
        bool failed = json_object_object_get(d, "error") != NULL;
        printf("category %s: %s%s%s\n", str(d, "name"), str(d, "status"), failed ? ": " : "",
               failed ? str(d, "error") : "");
    }
    show_import_line(r, "servers", "server.met", "servers", "added");
    show_import_line(r, "nodes", "nodes.dat", "contacts", "added");
    show_import_line(r, "credits", "clients.met", "records", "merged");
    show_import_line(r, "known", "known.met", "records", "found");
    show_import_line(r, "ipfilter", "ipfilter.dat", "ranges", NULL);
    a = json_object_object_get(json_object_object_get(r, "shared_dirs"), "added");
    n = a != NULL ? json_object_array_length(a) : 0;
    for (size_t i = 0; i < n; i++)
        printf("shared directory %s: %s\n", json_object_get_string(json_object_array_get_idx(a, i)),
               dry ? "would add" : "added");
    json_object *s = json_object_object_get(r, "settings");
    if (s != NULL)
        printf("limits: upload %lld kB/s, download %lld kB/s: %s\n", num(s, "max_upload"),
               num(s, "max_download"), str(s, "status"));
    return EXIT_OK;
}
