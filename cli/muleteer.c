/* muleteer.c: the command-line client: sends one command to muleteerd over
 * the control socket and prints the answer for people (or as JSON). */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/client.h"
#include "passwd.h"
#include "util/xalloc.h"

/* Exit statuses, documented in usage(). */
enum {
    EXIT_OK = 0,
    EXIT_CMD_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_PERMISSION = 4, /* the socket is there, but not for this user */
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: muleteer [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  status             what the daemon is doing: version, uptime, database\n"
            "  ping               check that the daemon answers\n"
            "  add LINK [--category NAME] [--priority low|normal|high]\n"
            "                     download an ed2k://|file|...| link\n"
            "  priority HASH low|normal|high   change a download's priority\n"
            "  downloads          the downloads, with progress, speed and sources\n"
            "  pause HASH | resume HASH | stop HASH\n"
            "  delete HASH [--files]   cancel a download and remove its temporary data;\n"
            "                     with --files, remove a complete shared file from disk\n"
            "  shared             the shared files\n"
            "  rescan             scan the shared directories again\n"
            "  uploads            upload slots and queue\n"
            "  limits [--up KIB] [--down KIB]   show or set the transfer limits (0: none)\n"
            "  connect [HOST:PORT]   connect to an eD2K server (none: the best of the\n"
            "                     list, then the next); disconnect; server\n"
            "  servers            the server list\n"
            "  servers add HOST:PORT [--static] [--priority low|normal|high]\n"
            "  servers remove HOST:PORT\n"
            "  servers import SOURCE   a server.met path, an http(s) URL of one, or an\n"
            "                     ed2k://|server|...|/ or ed2k://|serverlist|...|/ link\n"
            "  categories         the download categories\n"
            "  category add NAME [--path DIR] [--priority N] [--colour RRGGBB] [--comment TEXT]\n"
            "  category edit NAME [--rename NEW] [--path DIR] [--priority N] [--colour RRGGBB]\n"
            "                     [--comment TEXT]\n"
            "  category remove NAME   its downloads go on without a category\n"
            "  search [--local] [--wait SECONDS] EXPRESSION...\n"
            "                     search the network and print results as they come;\n"
            "                     words, \"phrases\", AND OR NOT, ( ), type:video,\n"
            "                     ext:mkv, min:700M, max:2G, avail:5 (docs/search.md)\n"
            "  search-results ID  a search's results so far\n"
            "  help               the commands the daemon knows\n"
            "  call CMD [JSON]    send any control command with a JSON object of arguments\n"
            "\n"
            "without the daemon:\n"
            "  hash-password      read a password on stdin, print its pbkdf2-sha256 string\n"
            "                     (for web_password in muleteer.conf)\n"
            "  passwd             read a new web password on stdin and write its hash to\n"
            "                     web_password in $MULETEER_CONF, else\n"
            "                     $MULETEER_VAR/muleteer.conf, else var/muleteer.conf\n"
            "\n"
            "The daemon's socket is --socket PATH, else $MULETEER_VAR/run/muleteerd.sock\n"
            "(or control_socket in $MULETEER_VAR/muleteer.conf), else var/run/muleteerd.sock.\n"
            "Exit status: 0 ok, 1 the daemon answered with an error (or hash-password or\n"
            "passwd failed), 2 usage, 3 daemon unreachable, 4 no permission to use the\n"
            "daemon's socket.\n");
}

static void
print_json(json_object *o)
{
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* opt: the string under key, or "" when it is missing or null. */
static const char *
opt(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o != NULL && json_object_object_get_ex(o, key, &v) && v != NULL)
        return json_object_get_string(v);
    return "";
}

static const char *
str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o != NULL && json_object_object_get_ex(o, key, &v) && v != NULL)
        return json_object_get_string(v);
    return "?";
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

static void
print_status(json_object *r)
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
    json_object *srv = NULL, *t = NULL;
    if (json_object_object_get_ex(r, "server", &srv))
        print_server(srv);
    if (json_object_object_get_ex(r, "transfers", &t)) {
        printf("transfers:       %lld download(s) at %lld B/s, %lld shared file(s), uploading "
               "%lld B/s in %lld slot(s), %lld queued, %lld connection(s)\n",
               num(t, "downloads"), num(t, "download_rate"), num(t, "shared_files"),
               num(t, "upload_rate"), num(t, "upload_slots"), num(t, "upload_queue"),
               num(t, "connections"));
    }
    printf("control socket:  %s\n", str(r, "control_socket"));
    printf("config file:     %s\n", str(r, "config_file"));
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
    if (!json_object_object_get_ex(d, "sources_dropped", &dropped) ||
        !json_object_is_type(dropped, json_type_object))
        return;
    const char *sep = "    sources dropped: ";
    json_object_object_foreach(dropped, why, n) {
        if (json_object_get_int64(n) > 0) {
            printf("%s%lld %s", sep, (long long)json_object_get_int64(n), why);
            sep = ", ";
        }
    }
    if (sep[0] == ',')
        printf("\n");
    json_object *error = NULL;
    if (json_object_object_get_ex(d, "error", &error) && json_object_is_type(error, json_type_string))
        printf("    error: %s\n", json_object_get_string(error));
}

static void
print_downloads(json_object *r)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(r, "downloads", &list) ||
        json_object_array_length(list) == 0) {
        printf("no downloads\n");
        return;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++)
        print_download(json_object_array_get_idx(list, i));
}

static void
print_shared(json_object *r)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(r, "files", &list) || json_object_array_length(list) == 0) {
        printf("no shared files\n");
        return;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *f = json_object_array_get_idx(list, i);
        char size[32];
        human_size(num(f, "size"), size, sizeof size);
        printf("%s %10s  %s\n", str(f, "hash"), size, str(f, "path"));
    }
}

static void
print_help(json_object *r)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(r, "commands", &list) ||
        !json_object_is_type(list, json_type_array)) {
        print_json(r);
        return;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *c = json_object_array_get_idx(list, i);
        printf("  %-18s %s\n", str(c, "name"), str(c, "summary"));
    }
}

/* host_port: "HOST:PORT" into a new args object {key: HOST, port: PORT}. */
static int
host_port(const char *text, const char *key, json_object **args)
{
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    long port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == text || end == colon + 1 || *end != '\0' || port < 1 ||
        port > 65535)
        return -1;
    *args = json_object_new_object();
    json_object_object_add(*args, key, json_object_new_string_len(text, (int)(colon - text)));
    json_object_object_add(*args, "port", json_object_new_int((int)port));
    return 0;
}

static void
print_servers(json_object *r)
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

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* follow_search: prints a search's results as they come, until it ends or
 * wait_s seconds pass. */
static int
follow_search(ctl_client_t *c, json_object *started, int wait_s)
{
    long long id = num(started, "id");
    printf("search %lld: %s\n", id, str(started, "normalized"));
    size_t shown = 0;
    time_t end = time(NULL) + wait_s;
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

/* follow_import: for a URL import, waits until the daemon has fetched it. */
static int
follow_import(ctl_client_t *c, json_object *r)
{
    json_object *imp = json_object_object_get(r, "import");
    if (imp == NULL) {
        printf("%lld new server(s) of %lld\n", num(r, "added"), num(r, "total"));
        return EXIT_OK;
    }
    const char *url = str(imp, "url");
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
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *socket_opt = NULL;
    int as_json = 0, timeout_s = 10, opt;
    int search_wait = 120;
    while ((opt = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            socket_opt = optarg;
            break;
        case 'j':
            as_json = 1;
            break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > 3600) {
                fprintf(stderr, "muleteer: --timeout wants 1 to 3600 seconds\n");
                return EXIT_USAGE;
            }
            timeout_s = (int)v;
            break;
        }
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind++];
    json_object *args = NULL;
    int nargs = argc - optind;
    char **av = argv + optind;
    if (strcmp(cmd, "hash-password") == 0 || strcmp(cmd, "passwd") == 0) {
        if (nargs > 0) {
            fprintf(stderr, "muleteer: %s takes no arguments (the password comes on stdin)\n",
                    cmd);
            return EXIT_USAGE;
        }
        int rc = strcmp(cmd, "passwd") == 0 ? passwd_change_command() : passwd_hash_command();
        return rc == 0 ? EXIT_OK : EXIT_CMD_ERROR;
    }
    if (strcmp(cmd, "call") == 0) {
        if (nargs < 1 || nargs > 2) {
            fprintf(stderr, "muleteer: usage: muleteer call CMD [JSON-OBJECT]\n");
            return EXIT_USAGE;
        }
        cmd = av[0];
        if (nargs == 2) {
            args = json_tokener_parse(av[1]);
            if (args == NULL || !json_object_is_type(args, json_type_object)) {
                fprintf(stderr, "muleteer: arguments must be a JSON object, e.g. '{\"x\":1}'\n");
                json_object_put(args);
                return EXIT_USAGE;
            }
        }
    } else if (strcmp(cmd, "add") == 0) {
        const char *category = NULL, *link = NULL, *prio = NULL;
        for (int i = 0; i < nargs; i++) {
            if (strcmp(av[i], "--category") == 0 && i + 1 < nargs)
                category = av[++i];
            else if (strcmp(av[i], "--priority") == 0 && i + 1 < nargs)
                prio = av[++i];
            else if (link == NULL)
                link = av[i];
            else
                link = NULL, i = nargs;
        }
        if (link == NULL) {
            fprintf(stderr, "muleteer: usage: muleteer add LINK [--category NAME] "
                            "[--priority low|normal|high]\n");
            return EXIT_USAGE;
        }
        args = json_object_new_object();
        json_object_object_add(args, "link", json_object_new_string(link));
        if (category != NULL)
            json_object_object_add(args, "category", json_object_new_string(category));
        if (prio != NULL)
            json_object_object_add(args, "priority", json_object_new_string(prio));
    } else if (strcmp(cmd, "priority") == 0) {
        if (nargs != 2) {
            fprintf(stderr, "muleteer: usage: muleteer priority HASH low|normal|high\n");
            return EXIT_USAGE;
        }
        args = json_object_new_object();
        json_object_object_add(args, "hash", json_object_new_string(av[0]));
        json_object_object_add(args, "priority", json_object_new_string(av[1]));
    } else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
               strcmp(cmd, "stop") == 0 || strcmp(cmd, "delete") == 0) {
        bool files = false;
        const char *hash = NULL;
        for (int i = 0; i < nargs; i++) {
            if (strcmp(cmd, "delete") == 0 && strcmp(av[i], "--files") == 0)
                files = true;
            else if (hash == NULL)
                hash = av[i];
            else
                hash = NULL, i = nargs;
        }
        if (hash == NULL) {
            fprintf(stderr, "muleteer: usage: muleteer %s HASH%s\n", cmd,
                    strcmp(cmd, "delete") == 0 ? " [--files]" : "");
            return EXIT_USAGE;
        }
        args = json_object_new_object();
        json_object_object_add(args, "hash", json_object_new_string(hash));
        if (files)
            json_object_object_add(args, "delete_files", json_object_new_boolean(1));
    } else if (strcmp(cmd, "connect") == 0) {
        if (nargs > 1 || (nargs == 1 && host_port(av[0], "host", &args) != 0)) {
            fprintf(stderr, "muleteer: usage: muleteer connect [HOST:PORT]\n");
            return EXIT_USAGE;
        }
    } else if (strcmp(cmd, "servers") == 0) {
        const char *sub = nargs > 0 ? av[0] : "list";
        if (strcmp(sub, "list") == 0 && nargs <= 1) {
            /* no arguments */
        } else if ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) && nargs >= 2 &&
                   host_port(av[1], "address", &args) == 0) {
            cmd = strcmp(sub, "add") == 0 ? "server-add" : "server-remove";
            for (int i = 2; i < nargs; i++) {
                if (strcmp(cmd, "server-add") == 0 && strcmp(av[i], "--static") == 0)
                    json_object_object_add(args, "static", json_object_new_boolean(1));
                else if (strcmp(cmd, "server-add") == 0 && strcmp(av[i], "--priority") == 0 &&
                         i + 1 < nargs)
                    json_object_object_add(args, "priority", json_object_new_string(av[++i]));
                else {
                    fprintf(stderr, "muleteer: unexpected \"%s\"\n", av[i]);
                    json_object_put(args);
                    return EXIT_USAGE;
                }
            }
        } else if (strcmp(sub, "import") == 0 && nargs == 2) {
            cmd = "servers-import";
            args = json_object_new_object();
            json_object_object_add(args, "source", json_object_new_string(av[1]));
        } else {
            fprintf(stderr, "muleteer: usage: muleteer servers [add HOST:PORT [--static] "
                            "[--priority P] | remove HOST:PORT | import SOURCE]\n");
            json_object_put(args);
            return EXIT_USAGE;
        }
    } else if (strcmp(cmd, "search") == 0) {
        bool local = false;
        size_t qlen = 0;
        char *query = xstrdup("");
        for (int i = 0; i < nargs; i++) {
            if (strcmp(av[i], "--local") == 0) {
                local = true;
            } else if (strcmp(av[i], "--wait") == 0 && i + 1 < nargs) {
                char *end;
                long v = strtol(av[++i], &end, 10);
                if (*end != '\0' || v < 0 || v > 3600) {
                    fprintf(stderr, "muleteer: --wait wants 0 to 3600 seconds\n");
                    free(query);
                    return EXIT_USAGE;
                }
                search_wait = (int)v;
            } else {
                size_t l = strlen(av[i]);
                query = xrealloc(query, qlen + l + 2);
                if (qlen > 0)
                    query[qlen++] = ' ';
                memcpy(query + qlen, av[i], l + 1);
                qlen += l;
            }
        }
        if (qlen == 0) {
            fprintf(stderr, "muleteer: usage: muleteer search [--local] [--wait SECONDS] EXPRESSION...\n");
            free(query);
            return EXIT_USAGE;
        }
        args = json_object_new_object();
        json_object_object_add(args, "query", json_object_new_string(query));
        json_object_object_add(args, "scope", json_object_new_string(local ? "local" : "global"));
        free(query);
    } else if (strcmp(cmd, "category") == 0) {
        const char *sub = nargs >= 2 ? av[0] : "";
        if (strcmp(sub, "add") != 0 && strcmp(sub, "edit") != 0 && strcmp(sub, "remove") != 0) {
            fprintf(stderr, "muleteer: usage: muleteer category add|edit|remove NAME [OPTIONS]\n");
            return EXIT_USAGE;
        }
        cmd = strcmp(sub, "add") == 0 ? "category-add" : strcmp(sub, "edit") == 0 ? "category-edit"
                                                                                : "category-remove";
        args = json_object_new_object();
        json_object_object_add(args, "name", json_object_new_string(av[1]));
        for (int i = 2; i < nargs; i++) {
            const char *o = av[i], *v = i + 1 < nargs ? av[i + 1] : NULL;
            char *end = NULL;
            if (v == NULL || strcmp(cmd, "category-remove") == 0) {
                fprintf(stderr, "muleteer: unexpected \"%s\"\n", o);
                json_object_put(args);
                return EXIT_USAGE;
            }
            if (strcmp(o, "--path") == 0)
                json_object_object_add(args, "incoming_path", json_object_new_string(v));
            else if (strcmp(o, "--comment") == 0)
                json_object_object_add(args, "comment", json_object_new_string(v));
            else if (strcmp(o, "--rename") == 0 && strcmp(cmd, "category-edit") == 0)
                json_object_object_add(args, "new_name", json_object_new_string(v));
            else if (strcmp(o, "--priority") == 0 && (strtol(v, &end, 10), *end == '\0'))
                json_object_object_add(args, "priority", json_object_new_int((int)strtol(v, NULL, 10)));
            else if (strcmp(o, "--colour") == 0 && (strtol(v[0] == '#' ? v + 1 : v, &end, 16), *end == '\0'))
                json_object_object_add(args, "colour",
                                       json_object_new_int((int)strtol(v[0] == '#' ? v + 1 : v, NULL, 16)));
            else {
                fprintf(stderr, "muleteer: bad option \"%s %s\"\n", o, v);
                json_object_put(args);
                return EXIT_USAGE;
            }
            i++;
        }
    } else if (strcmp(cmd, "search-results") == 0) {
        char *end = NULL;
        long long id = nargs == 1 ? strtoll(av[0], &end, 10) : 0;
        if (nargs != 1 || *end != '\0' || id <= 0) {
            fprintf(stderr, "muleteer: usage: muleteer search-results ID\n");
            return EXIT_USAGE;
        }
        args = json_object_new_object();
        json_object_object_add(args, "id", json_object_new_int64(id));
    } else if (strcmp(cmd, "limits") == 0) {
        args = json_object_new_object();
        for (int i = 0; i < nargs; i++) {
            const char *key = strcmp(av[i], "--up") == 0     ? "max_upload"
                              : strcmp(av[i], "--down") == 0 ? "max_download"
                                                             : NULL;
            char *end = NULL;
            long long v = i + 1 < nargs ? strtoll(av[i + 1], &end, 10) : -1;
            if (key == NULL || end == NULL || *end != '\0' || v < 0) {
                fprintf(stderr, "muleteer: usage: muleteer limits [--up KIB] [--down KIB]\n");
                json_object_put(args);
                return EXIT_USAGE;
            }
            json_object_object_add(args, key, json_object_new_int64(v));
            i++;
        }
    } else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "ping") == 0 ||
               strcmp(cmd, "help") == 0 || strcmp(cmd, "downloads") == 0 ||
               strcmp(cmd, "shared") == 0 || strcmp(cmd, "rescan") == 0 ||
               strcmp(cmd, "uploads") == 0 || strcmp(cmd, "disconnect") == 0 ||
               strcmp(cmd, "server") == 0 || strcmp(cmd, "categories") == 0) {
        if (nargs > 0) {
            fprintf(stderr, "muleteer: %s takes no arguments\n", cmd);
            return EXIT_USAGE;
        }
    } else {
        fprintf(stderr, "muleteer: unknown command \"%s\"\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }

    signal(SIGPIPE, SIG_IGN);
    char *path = socket_opt != NULL ? xstrdup(socket_opt) : ctl_socket_path();
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(path, timeout_s * 1000, &err);
    if (c == NULL) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        int st = err->code == MT_ERR_PERMISSION ? EXIT_PERMISSION : EXIT_UNREACHABLE;
        mt_error_free(err);
        free(path);
        json_object_put(args);
        return st;
    }
    json_object *result = NULL;
    int rc = ctl_client_call(c, cmd, args, &result, &err);
    json_object_put(args);
    int status = EXIT_OK;
    if (rc != 0) {
        int remote = ctl_client_last_error(c) != 0;
        if (as_json && remote) {
            json_object *msg = json_object_new_string(err->message);
            printf("{\"error\":{\"code\":\"%s\",\"message\":%s}}\n",
                   ctl_errcode_name(ctl_client_last_error(c)), json_object_to_json_string(msg));
            json_object_put(msg);
        } else {
            fprintf(stderr, "muleteer: %s\n", err->message);
        }
        status = remote                           ? EXIT_CMD_ERROR
                 : err->code == MT_ERR_PERMISSION ? EXIT_PERMISSION
                                                  : EXIT_UNREACHABLE;
        mt_error_free(err);
    } else if (as_json) {
        print_json(result);
    } else if (strcmp(cmd, "status") == 0) {
        print_status(result);
    } else if (strcmp(cmd, "ping") == 0) {
        printf("pong\n");
    } else if (strcmp(cmd, "help") == 0) {
        print_help(result);
    } else if (strcmp(cmd, "downloads") == 0) {
        print_downloads(result);
    } else if (strcmp(cmd, "shared") == 0) {
        print_shared(result);
    } else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "pause") == 0 ||
               strcmp(cmd, "resume") == 0 || strcmp(cmd, "stop") == 0 ||
               strcmp(cmd, "priority") == 0) {
        print_download(result);
    } else if (strcmp(cmd, "connect") == 0 || strcmp(cmd, "disconnect") == 0 ||
               strcmp(cmd, "server") == 0) {
        print_server(result);
    } else if (strcmp(cmd, "servers") == 0) {
        print_servers(result);
    } else if (strcmp(cmd, "categories") == 0) {
        json_object *list = json_object_object_get(result, "categories");
        if (list == NULL || json_object_array_length(list) == 0)
            printf("no categories\n");
        for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
            json_object *k = json_object_array_get_idx(list, i);
            printf("%-20s %s  priority %lld  #%06llx  %s\n", str(k, "name"), str(k, "incoming_path"),
                   num(k, "priority"), (unsigned long long)num(k, "colour"), str(k, "comment"));
        }
    } else if (strcmp(cmd, "category-add") == 0 || strcmp(cmd, "category-edit") == 0) {
        printf("%s  %s\n", str(result, "name"), str(result, "incoming_path"));
    } else if (strcmp(cmd, "category-remove") == 0) {
        printf("removed; %lld download(s) without a category now\n", num(result, "downloads"));
    } else if (strcmp(cmd, "server-add") == 0) {
        printf("%s %s:%lld\n", json_object_get_boolean(json_object_object_get(result, "added"))
                                  ? "added" : "already listed:",
               str(result, "address"), num(result, "port"));
    } else if (strcmp(cmd, "server-remove") == 0) {
        printf("removed\n");
    } else if (strcmp(cmd, "servers-import") == 0) {
        status = follow_import(c, result);
    } else if (strcmp(cmd, "search") == 0) {
        status = follow_search(c, result, search_wait);
    } else if (strcmp(cmd, "search-results") == 0) {
        json_object *sr = json_object_object_get(result, "search");
        json_object *list = json_object_object_get(result, "results");
        for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
            print_result(json_object_array_get_idx(list, i));
        printf("search %lld: %s, %lld result(s)\n", num(sr, "id"), str(sr, "state"),
               num(sr, "results"));
    } else if (strcmp(cmd, "rescan") == 0) {
        printf("scanning the shared directories\n");
    } else if (strcmp(cmd, "delete") == 0) {
        printf("deleted the %s%s%s\n", str(result, "deleted"),
               strcmp(str(result, "deleted"), "file") == 0 ? " " : "",
               strcmp(str(result, "deleted"), "file") == 0 ? str(result, "path") : "");
    } else if (strcmp(cmd, "uploads") == 0) {
        json_object *slots = NULL;
        json_object_object_get_ex(result, "slots", &slots);
        char rate[32];
        human_size(num(result, "rate"), rate, sizeof rate);
        printf("uploading %s/s in %zu slot(s), %lld client(s) queued\n", rate,
               slots != NULL ? json_object_array_length(slots) : 0, num(result, "queued"));
        for (size_t i = 0; slots != NULL && i < json_object_array_length(slots); i++) {
            json_object *e = json_object_array_get_idx(slots, i);
            char sent[32];
            human_size(num(e, "sent"), sent, sizeof sent);
            printf("  %s  %10s sent  %s\n", str(e, "hash"), sent, str(e, "peer"));
        }
    } else if (strcmp(cmd, "limits") == 0) {
        if (num(result, "max_upload") > 0)
            printf("upload limit:   %lld KiB/s\n", num(result, "max_upload"));
        else
            printf("upload limit:   none\n");
        if (num(result, "max_download") > 0)
            printf("download limit: %lld KiB/s\n", num(result, "max_download"));
        else
            printf("download limit: none\n");
        printf("rates now:      up %lld B/s, down %lld B/s\n", num(result, "upload_rate"),
               num(result, "download_rate"));
    } else {
        print_json(result);
    }
    json_object_put(result);
    ctl_client_free(c);
    free(path);
    return status;
}
