/* muleteer.c: the command-line client: sends one command to muleteerd over
 * the control socket and prints the answer for people (show.c) or as
 * JSON. Each command is a row of one table: its help, the parser that
 * turns its arguments into a control request, and its printer. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl/client.h"
#include "passwd.h"
#include "remote.h"
#include "user.h"
#include "show.h"
#include "util/xalloc.h"

/* parse_fn: turns a command's arguments (nargs words at av) into req.
 * Returns EXIT_OK, or EXIT_USAGE after saying why on stderr, with
 * req->args then NULL. */
typedef int (*parse_fn)(request_t *req, int nargs, char **av);

/* One command: a row of the table, which lists them in the order of the
 * help text. */
typedef struct command {
    const char *name;     /* the control command, and the word typed when
                             parse is set */
    parse_fn parse;       /* NULL: not typed, the answer to another command
                             (servers add sends server-add) */
    show_fn show;         /* NULL: the answer is printed as JSON */
    const char *synopsis; /* its line in the help text; NULL: not listed
                             (another row's text tells of it) */
    const char *summary;  /* what it does, lines separated by '\n'; NULL for
                             none */
    int (*local)(void);   /* instead of the daemon: run this (returns 0, or 1
                             after a message) */
    int (*local_args)(int nargs, char **av); /* instead of parse and the
                             daemon: run this with the arguments (returns
                             the exit status) */
} command_t;

/* ---- parsing the arguments ---- */

static int
parse_none(request_t *req, int nargs, char **av)
{
    if (nargs > 0) {
        fprintf(stderr, "muleteer: %s takes no arguments\n", req->cmd);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* parse_stdin: the commands that read a password on stdin. */
static int
parse_stdin(request_t *req, int nargs, char **av)
{
    if (nargs > 0) {
        fprintf(stderr, "muleteer: %s takes no arguments (the password comes on stdin)\n",
                req->cmd);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* parse_call: call CMD [JSON-OBJECT], any control command. */
static int
parse_call(request_t *req, int nargs, char **av)
{
    if (nargs < 1 || nargs > 2) {
        fprintf(stderr, "muleteer: usage: muleteer call CMD [JSON-OBJECT]\n");
        return EXIT_USAGE;
    }
    req->cmd = av[0];
    if (nargs == 2) {
        req->args = json_tokener_parse(av[1]);
        if (req->args == NULL || !json_object_is_type(req->args, json_type_object)) {
            fprintf(stderr, "muleteer: arguments must be a JSON object, e.g. '{\"x\":1}'\n");
            json_object_put(req->args);
            req->args = NULL;
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static int
parse_add(request_t *req, int nargs, char **av)
{
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
    req->args = json_object_new_object();
    json_object_object_add(req->args, "link", json_object_new_string(link));
    if (category != NULL)
        json_object_object_add(req->args, "category", json_object_new_string(category));
    if (prio != NULL)
        json_object_object_add(req->args, "priority", json_object_new_string(prio));
    return EXIT_OK;
}

static int
parse_priority(request_t *req, int nargs, char **av)
{
    if (nargs != 2) {
        fprintf(stderr, "muleteer: usage: muleteer priority HASH low|normal|high\n");
        return EXIT_USAGE;
    }
    req->args = json_object_new_object();
    json_object_object_add(req->args, "hash", json_object_new_string(av[0]));
    json_object_object_add(req->args, "priority", json_object_new_string(av[1]));
    return EXIT_OK;
}

/* parse_hash: pause, resume, stop and delete HASH (delete also --files). */
static int
parse_hash(request_t *req, int nargs, char **av)
{
    bool is_delete = strcmp(req->cmd, "delete") == 0;
    bool files = false;
    const char *hash = NULL;
    for (int i = 0; i < nargs; i++) {
        if (is_delete && strcmp(av[i], "--files") == 0)
            files = true;
        else if (hash == NULL)
            hash = av[i];
        else
            hash = NULL, i = nargs;
    }
    if (hash == NULL) {
        fprintf(stderr, "muleteer: usage: muleteer %s HASH%s\n", req->cmd,
                is_delete ? " [--files]" : "");
        return EXIT_USAGE;
    }
    req->args = json_object_new_object();
    json_object_object_add(req->args, "hash", json_object_new_string(hash));
    if (files)
        json_object_object_add(req->args, "delete_files", json_object_new_boolean(1));
    return EXIT_OK;
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

static int
parse_connect(request_t *req, int nargs, char **av)
{
    if (nargs > 1 || (nargs == 1 && host_port(av[0], "host", &req->args) != 0)) {
        fprintf(stderr, "muleteer: usage: muleteer connect [HOST:PORT]\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* server_options: the options of servers add after HOST:PORT. */
static int
server_options(request_t *req, int nargs, char **av)
{
    for (int i = 2; i < nargs; i++) {
        if (strcmp(req->cmd, "server-add") == 0 && strcmp(av[i], "--static") == 0) {
            json_object_object_add(req->args, "static", json_object_new_boolean(1));
        } else if (strcmp(req->cmd, "server-add") == 0 && strcmp(av[i], "--priority") == 0 &&
                   i + 1 < nargs) {
            json_object_object_add(req->args, "priority", json_object_new_string(av[++i]));
        } else {
            fprintf(stderr, "muleteer: unexpected \"%s\"\n", av[i]);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

/* parse_servers: servers [list], servers add|remove HOST:PORT [OPTIONS]
 * (server-add, server-remove), servers import SOURCE (servers-import). */
static int
parse_servers(request_t *req, int nargs, char **av)
{
    const char *sub = nargs > 0 ? av[0] : "list";
    int st = EXIT_OK;
    if (strcmp(sub, "list") == 0 && nargs <= 1) {
        /* no arguments */
    } else if ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) && nargs >= 2 &&
               host_port(av[1], "address", &req->args) == 0) {
        req->cmd = strcmp(sub, "add") == 0 ? "server-add" : "server-remove";
        st = server_options(req, nargs, av);
    } else if (strcmp(sub, "import") == 0 && nargs == 2) {
        req->cmd = "servers-import";
        req->args = json_object_new_object();
        json_object_object_add(req->args, "source", json_object_new_string(av[1]));
    } else {
        fprintf(stderr, "muleteer: usage: muleteer servers [add HOST:PORT [--static] "
                        "[--priority P] | remove HOST:PORT | import SOURCE]\n");
        st = EXIT_USAGE;
    }
    if (st != EXIT_OK) {
        json_object_put(req->args);
        req->args = NULL;
    }
    return st;
}

/* parse_kad: kad [status [--contacts]] (kad-status), kad bootstrap IP:PORT
 * (kad-bootstrap, PORT the node's UDP port), kad import FILE|URL (kad-import),
 * kad lookup ID (kad-lookup), kad connect|disconnect (kad-connect,
 * kad-disconnect). */
static int
parse_kad(request_t *req, int nargs, char **av)
{
    const char *sub = nargs > 0 ? av[0] : "status";
    if (strcmp(sub, "status") == 0 && nargs <= 2 &&
        (nargs < 2 || strcmp(av[1], "--contacts") == 0)) {
        req->cmd = "kad-status";
        if (nargs == 2) {
            req->args = json_object_new_object();
            json_object_object_add(req->args, "contacts", json_object_new_boolean(1));
        }
        return EXIT_OK;
    }
    if (strcmp(sub, "import") == 0 && nargs == 2) {
        req->cmd = "kad-import";
        req->args = json_object_new_object();
        json_object_object_add(req->args, "source", json_object_new_string(av[1]));
        return EXIT_OK;
    }
    if ((strcmp(sub, "connect") == 0 || strcmp(sub, "disconnect") == 0) && nargs == 1) {
        req->cmd = strcmp(sub, "connect") == 0 ? "kad-connect" : "kad-disconnect";
        return EXIT_OK;
    }
    if (strcmp(sub, "bootstrap") == 0 && nargs == 2 &&
        host_port(av[1], "address", &req->args) == 0) {
        req->cmd = "kad-bootstrap";
        return EXIT_OK;
    }
    if (strcmp(sub, "lookup") == 0 && nargs == 2) {
        req->cmd = "kad-lookup";
        req->args = json_object_new_object();
        json_object_object_add(req->args, "target", json_object_new_string(av[1]));
        return EXIT_OK;
    }
    fprintf(stderr, "muleteer: usage: muleteer kad [status [--contacts] | connect | disconnect | "
                    "bootstrap IP:PORT | import FILE|URL | lookup ID]\n");
    return EXIT_USAGE;
}

/* parse_hooks: hooks (their counters), hooks test EVENT [--name NAME]
 * [--path PATH] [--size BYTES] [--category NAME] [--error TEXT]
 * (hooks-test). */
static int
parse_hooks(request_t *req, int nargs, char **av)
{
    if (nargs == 0)
        return EXIT_OK;
    if (strcmp(av[0], "test") != 0 || nargs < 2 || nargs % 2 != 0)
        goto usage;
    req->cmd = "hooks-test";
    req->args = json_object_new_object();
    json_object_object_add(req->args, "event", json_object_new_string(av[1]));
    for (int i = 2; i + 1 < nargs; i += 2) {
        const char *key = strcmp(av[i], "--name") == 0       ? "name"
                          : strcmp(av[i], "--path") == 0     ? "path"
                          : strcmp(av[i], "--category") == 0 ? "category"
                          : strcmp(av[i], "--error") == 0    ? "error"
                          : strcmp(av[i], "--hash") == 0     ? "hash"
                          : strcmp(av[i], "--size") == 0     ? "size"
                                                             : NULL;
        if (key == NULL) {
            json_object_put(req->args);
            req->args = NULL;
            goto usage;
        }
        if (strcmp(key, "size") == 0) {
            char *end;
            long long v = strtoll(av[i + 1], &end, 10);
            if (*end != '\0' || v < 0) {
                json_object_put(req->args);
                req->args = NULL;
                goto usage;
            }
            json_object_object_add(req->args, key, json_object_new_int64(v));
        } else {
            json_object_object_add(req->args, key, json_object_new_string(av[i + 1]));
        }
    }
    return EXIT_OK;
usage:
    fprintf(stderr, "muleteer: usage: muleteer hooks [test added|completed|failed|disk_full "
                    "[--name NAME] [--path PATH] [--size BYTES] [--category NAME] [--hash HASH] "
                    "[--error TEXT]]\n");
    return EXIT_USAGE;
}

/* parse_import: import-amule DIR / import-emule DIR [--dry-run] [--move]
 * [--limits] (import-amule; DIR made absolute here, the daemon reads it). */
static int
parse_import(request_t *req, int nargs, char **av)
{
    const char *dir = NULL;
    bool dry = false, move = false, limits = false;
    for (int i = 0; i < nargs; i++) {
        if (strcmp(av[i], "--dry-run") == 0)
            dry = true;
        else if (strcmp(av[i], "--move") == 0)
            move = true;
        else if (strcmp(av[i], "--limits") == 0)
            limits = true;
        else if (dir == NULL && av[i][0] != '-')
            dir = av[i];
        else
            dir = NULL, i = nargs; /* usage */
    }
    char *abs = dir != NULL ? realpath(dir, NULL) : NULL;
    if (abs == NULL) {
        if (dir != NULL)
            fprintf(stderr, "muleteer: %s: %s\n", dir, strerror(errno));
        fprintf(stderr, "muleteer: usage: muleteer %s DIR [--dry-run] [--move] [--limits]\n",
                req->cmd);
        return EXIT_USAGE;
    }
    req->args = json_object_new_object();
    json_object_object_add(req->args, "dir", json_object_new_string(abs));
    json_object_object_add(req->args, "kind", json_object_new_string(
                                                  strcmp(req->cmd, "import-emule") == 0 ? "emule"
                                                                                        : "amule"));
    json_object_object_add(req->args, "dry_run", json_object_new_boolean(dry));
    json_object_object_add(req->args, "move", json_object_new_boolean(move));
    json_object_object_add(req->args, "limits", json_object_new_boolean(limits));
    req->cmd = "import-amule";
    free(abs);
    return EXIT_OK;
}

/* parse_ipfilter: ipfilter [status] (ipfilter), ipfilter reload
 * (ipfilter-reload). */
static int
parse_ipfilter(request_t *req, int nargs, char **av)
{
    const char *sub = nargs > 0 ? av[0] : "status";
    if (nargs <= 1 && strcmp(sub, "status") == 0) {
        req->cmd = "ipfilter";
        return EXIT_OK;
    }
    if (nargs == 1 && strcmp(sub, "reload") == 0) {
        req->cmd = "ipfilter-reload";
        return EXIT_OK;
    }
    fprintf(stderr, "muleteer: usage: muleteer ipfilter [status | reload]\n");
    return EXIT_USAGE;
}

/* parse_search: search [--local] [--wait SECONDS] EXPRESSION...: the words
 * of the expression joined by spaces. */
static int
parse_search(request_t *req, int nargs, char **av)
{
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
            req->search_wait = (int)v;
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
        fprintf(stderr, "muleteer: usage: muleteer search [--local] [--wait SECONDS] "
                        "EXPRESSION...\n");
        free(query);
        return EXIT_USAGE;
    }
    req->args = json_object_new_object();
    json_object_object_add(req->args, "query", json_object_new_string(query));
    json_object_object_add(req->args, "scope", json_object_new_string(local ? "local" : "global"));
    free(query);
    return EXIT_OK;
}

static int
parse_search_results(request_t *req, int nargs, char **av)
{
    char *end = NULL;
    long long id = nargs == 1 ? strtoll(av[0], &end, 10) : 0;
    if (nargs != 1 || *end != '\0' || id <= 0) {
        fprintf(stderr, "muleteer: usage: muleteer search-results ID\n");
        return EXIT_USAGE;
    }
    req->args = json_object_new_object();
    json_object_object_add(req->args, "id", json_object_new_int64(id));
    return EXIT_OK;
}

/* category_option: one OPTION VALUE pair of category add or edit into
 * args; -1 when it is not one of theirs or its value is bad. */
static int
category_option(const char *cmd, const char *o, const char *v, json_object *args)
{
    char *end = NULL;
    const char *hex = v[0] == '#' ? v + 1 : v; /* a colour */
    if (strcmp(o, "--path") == 0)
        json_object_object_add(args, "incoming_path", json_object_new_string(v));
    else if (strcmp(o, "--comment") == 0)
        json_object_object_add(args, "comment", json_object_new_string(v));
    else if (strcmp(o, "--rename") == 0 && strcmp(cmd, "category-edit") == 0)
        json_object_object_add(args, "new_name", json_object_new_string(v));
    else if (strcmp(o, "--priority") == 0 && (strtol(v, &end, 10), *end == '\0'))
        json_object_object_add(args, "priority", json_object_new_int((int)strtol(v, NULL, 10)));
    else if (strcmp(o, "--colour") == 0 && (strtol(hex, &end, 16), *end == '\0'))
        json_object_object_add(args, "colour", json_object_new_int((int)strtol(hex, NULL, 16)));
    else
        return -1;
    return 0;
}

/* parse_category: category add|edit|remove NAME [OPTIONS] (category-add,
 * category-edit, category-remove). */
static int
parse_category(request_t *req, int nargs, char **av)
{
    const char *sub = nargs >= 2 ? av[0] : "";
    if (strcmp(sub, "add") != 0 && strcmp(sub, "edit") != 0 && strcmp(sub, "remove") != 0) {
        fprintf(stderr, "muleteer: usage: muleteer category add|edit|remove NAME [OPTIONS]\n");
        return EXIT_USAGE;
    }
    req->cmd = strcmp(sub, "add") == 0    ? "category-add"
               : strcmp(sub, "edit") == 0 ? "category-edit"
                                          : "category-remove";
    req->args = json_object_new_object();
    json_object_object_add(req->args, "name", json_object_new_string(av[1]));
    for (int i = 2; i < nargs; i += 2) {
        const char *o = av[i], *v = i + 1 < nargs ? av[i + 1] : NULL;
        if (v == NULL || strcmp(req->cmd, "category-remove") == 0) {
            fprintf(stderr, "muleteer: unexpected \"%s\"\n", o);
        } else if (category_option(req->cmd, o, v, req->args) != 0) {
            fprintf(stderr, "muleteer: bad option \"%s %s\"\n", o, v);
        } else {
            continue;
        }
        json_object_put(req->args);
        req->args = NULL;
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* parse_limits: limits [--up KIB] [--down KIB] [--alt-up KIB]
 * [--alt-down KIB] [--alt on|off]. */
static int
parse_limits(request_t *req, int nargs, char **av)
{
    req->args = json_object_new_object();
    for (int i = 0; i < nargs; i += 2) {
        const char *key = strcmp(av[i], "--up") == 0         ? "max_upload"
                          : strcmp(av[i], "--down") == 0     ? "max_download"
                          : strcmp(av[i], "--alt-up") == 0   ? "alt_max_upload"
                          : strcmp(av[i], "--alt-down") == 0 ? "alt_max_download"
                          : strcmp(av[i], "--alt") == 0      ? "alt_mode"
                                                             : NULL;
        const char *val = i + 1 < nargs ? av[i + 1] : NULL;
        if (key != NULL && strcmp(key, "alt_mode") == 0 && val != NULL &&
            (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)) {
            json_object_object_add(req->args, key, json_object_new_boolean(strcmp(val, "on") == 0));
            continue;
        }
        char *end = NULL;
        long long v = val != NULL ? strtoll(val, &end, 10) : -1;
        if (key == NULL || strcmp(key, "alt_mode") == 0 || end == NULL || *end != '\0' || v < 0) {
            fprintf(stderr, "muleteer: usage: muleteer limits [--up KIB] [--down KIB] "
                            "[--alt-up KIB] [--alt-down KIB] [--alt on|off]\n");
            json_object_put(req->args);
            req->args = NULL;
            return EXIT_USAGE;
        }
        json_object_object_add(req->args, key, json_object_new_int64(v));
    }
    return EXIT_OK;
}

/* parse_rate_limits: limit HASH [--down KIB] [--up KIB] (rate-limits,
 * which takes bytes/s; 0: none). Without options it shows them. */
static int
parse_rate_limits(request_t *req, int nargs, char **av)
{
    req->cmd = "rate-limits";
    req->show_as = "limit";
    req->args = json_object_new_object();
    bool ok = nargs % 2 == 1 && av[0][0] != '-';
    if (ok)
        json_object_object_add(req->args, "hash", json_object_new_string(av[0]));
    for (int i = 1; ok && i + 1 < nargs; i += 2) {
        const char *key = strcmp(av[i], "--down") == 0 ? "dl_limit"
                          : strcmp(av[i], "--up") == 0 ? "up_limit"
                                                       : NULL;
        char *end = NULL;
        long long v = strtoll(av[i + 1], &end, 10);
        ok = key != NULL && end != av[i + 1] && *end == '\0' && v >= 0 && v <= 2097151;
        if (ok)
            json_object_object_add(req->args, key, json_object_new_int64(v * 1024));
    }
    if (!ok) {
        fprintf(stderr, "muleteer: usage: muleteer limit HASH [--down KIB] [--up KIB] "
                        "(0 to 2097151 KiB/s, 0: none)\n");
        json_object_put(req->args);
        req->args = NULL;
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* parse_schedule: schedule [on|off] [RULES] (config-set of
 * scheduler_enabled and schedule; config without arguments). */
static int
parse_schedule(request_t *req, int nargs, char **av)
{
    req->show_as = "schedule";
    if (nargs == 0) {
        req->cmd = "config";
        return EXIT_OK;
    }
    req->cmd = "config-set";
    req->args = json_object_new_object();
    int i = 0;
    if (strcmp(av[0], "on") == 0 || strcmp(av[0], "off") == 0) {
        json_object_object_add(req->args, "scheduler_enabled",
                               json_object_new_boolean(strcmp(av[0], "on") == 0));
        i = 1;
    }
    if (nargs - i > 1 || (i < nargs && av[i][0] == '-')) {
        fprintf(stderr,
                "muleteer: usage: muleteer schedule [on|off] [\"HH:MM-HH:MM DAYS; ...\"]\n");
        json_object_put(req->args);
        req->args = NULL;
        return EXIT_USAGE;
    }
    if (i < nargs)
        json_object_object_add(req->args, "schedule", json_object_new_string(av[i]));
    return EXIT_OK;
}

/* ---- the commands ---- */

static const command_t commands[] = {
    { .name = "status", .parse = parse_none, .show = show_status, .synopsis = "status",
      .summary = "what the daemon is doing: version, uptime, database" },
    { .name = "ping", .parse = parse_none, .show = show_pong, .synopsis = "ping",
      .summary = "check that the daemon answers" },
    { .name = "add", .parse = parse_add, .show = show_added,
      .synopsis = "add LINK [--category NAME] [--priority low|normal|high]",
      .summary = "download an ed2k://|file|...| link; an ed2k://|nodeslist|URL|/\n"
                 "link imports Kad contacts, a server(list) link servers" },
    { .name = "priority", .parse = parse_priority, .show = show_download,
      .synopsis = "priority HASH low|normal|high", .summary = "change a download's priority" },
    { .name = "downloads", .parse = parse_none, .show = show_downloads, .synopsis = "downloads",
      .summary = "the downloads, with progress, speed and sources" },
    { .name = "pause", .parse = parse_hash, .show = show_download,
      .synopsis = "pause HASH | resume HASH | stop HASH" },
    { .name = "resume", .parse = parse_hash, .show = show_download },
    { .name = "stop", .parse = parse_hash, .show = show_download },
    { .name = "delete", .parse = parse_hash, .show = show_deleted,
      .synopsis = "delete HASH [--files]",
      .summary = "cancel a download and remove its temporary data;\n"
                 "with --files, remove a complete shared file from disk" },
    { .name = "shared", .parse = parse_none, .show = show_shared, .synopsis = "shared",
      .summary = "the shared files" },
    { .name = "rescan", .parse = parse_none, .show = show_rescan, .synopsis = "rescan",
      .summary = "scan the shared directories again" },
    { .name = "uploads", .parse = parse_none, .show = show_uploads, .synopsis = "uploads",
      .summary = "upload slots and queue" },
    { .name = "limits", .parse = parse_limits, .show = show_limits,
      .synopsis = "limits [--up KIB] [--down KIB] [--alt-up KIB] [--alt-down KIB] [--alt on|off]",
      .summary = "show or set the transfer limits (0: none)" },
    { .name = "limit", .parse = parse_rate_limits, .show = show_rate_limits,
      .synopsis = "limit HASH [--down KIB] [--up KIB]",
      .summary = "show or set one download's own limits (0: none), under the global ones" },
    { .name = "schedule", .parse = parse_schedule, .show = show_schedule,
      .synopsis = "schedule [on|off] [\"HH:MM-HH:MM DAYS; ...\"]",
      .summary = "show or set when the alternative limits are in force\n"
                 "(DAYS: every, weekdays, weekends, mon ... sun, comma-separated)" },
    { .name = "connect", .parse = parse_connect, .show = show_server,
      .synopsis = "connect [HOST:PORT]",
      .summary = "connect to an eD2K server (none: the best of the\n"
                 "list, then the next); disconnect; server" },
    { .name = "disconnect", .parse = parse_none, .show = show_server },
    { .name = "server", .parse = parse_none, .show = show_server },
    { .name = "servers", .parse = parse_servers, .show = show_servers, .synopsis = "servers",
      .summary = "the server list" },
    { .name = "server-add", .show = show_server_added,
      .synopsis = "servers add HOST:PORT [--static] [--priority low|normal|high]" },
    { .name = "server-remove", .show = show_server_removed,
      .synopsis = "servers remove HOST:PORT" },
    { .name = "servers-import", .show = show_import, .synopsis = "servers import SOURCE",
      .summary = "a server.met path, an http(s) URL of one, or an\n"
                 "ed2k://|server|...|/ or ed2k://|serverlist|...|/ link" },
    { .name = "kad", .parse = parse_kad, .synopsis = "kad [status [--contacts]]",
      .summary = "the Kad node: state, id, contacts" },
    { .name = "kad-status", .show = show_kad },
    { .name = "kad-bootstrap", .show = show_kad, .synopsis = "kad bootstrap IP:PORT",
      .summary = "ask the Kad node at IP and UDP PORT for contacts" },
    { .name = "kad-connect", .show = show_kad, .synopsis = "kad connect",
      .summary = "Kad on again: the saved contacts verified, then as at start" },
    { .name = "kad-disconnect", .show = show_kad, .synopsis = "kad disconnect",
      .summary = "no Kad traffic until kad connect (contacts kept)" },
    { .name = "kad-import", .show = show_kad_import, .synopsis = "kad import FILE|URL",
      .summary = "add the contacts of a nodes.dat: a file (read by the daemon),\n"
                 "an http(s) URL or an ed2k://|nodeslist|URL|/ link" },
    { .name = "kad-lookup", .show = show_kad_lookup, .synopsis = "kad lookup ID",
      .summary = "a node lookup for a Kad id (32 hex digits), followed\n"
                 "until it ends: the contacts nearest it, requests used" },
    { .name = "import-amule", .parse = parse_import, .show = show_import_amule,
      .synopsis = "import-amule DIR [--dry-run] [--move] [--limits]",
      .summary = "bring over an aMule directory (~/.aMule): downloads\n"
                 "in progress with their data, categories, servers, Kad,\n"
                 "credits, known files (not hashed again), shared dirs;\n"
                 "--move removes the imported .part files, --limits\n"
                 "takes its speed limits (docs/import.md)" },
    { .name = "import-emule", .parse = parse_import, .show = show_import_amule,
      .synopsis = "import-emule DIR [--dry-run] [--move] [--limits]",
      .summary = "the same for an eMule directory (config/, Temp/)" },
    { .name = "ipfilter", .parse = parse_ipfilter, .show = show_ipfilter,
      .synopsis = "ipfilter [status]",
      .summary = "the IP filter: source, ranges, bad lines, hits" },
    { .name = "ipfilter-reload", .show = show_ipfilter, .synopsis = "ipfilter reload",
      .summary = "load the IP filter list again (file or URL)" },
    { .name = "categories", .parse = parse_none, .show = show_categories,
      .synopsis = "categories", .summary = "the download categories" },
    { .name = "category", .parse = parse_category },
    { .name = "category-add", .show = show_category,
      .synopsis = "category add NAME [--path DIR] [--priority N] [--colour RRGGBB] "
                  "[--comment TEXT]" },
    { .name = "category-edit", .show = show_category,
      .synopsis = "category edit NAME [--rename NEW] [--path DIR] [--priority N] "
                  "[--colour RRGGBB]",
      .summary = "[--comment TEXT]" },
    { .name = "category-remove", .show = show_category_removed,
      .synopsis = "category remove NAME", .summary = "its downloads go on without a category" },
    { .name = "search", .parse = parse_search, .show = show_search,
      .synopsis = "search [--local] [--wait SECONDS] EXPRESSION...",
      .summary = "search the network and print results as they come;\n"
                 "words, \"phrases\", AND OR NOT, ( ), type:video,\n"
                 "ext:mkv, min:700M, max:2G, avail:5 (docs/search.md)" },
    { .name = "search-results", .parse = parse_search_results, .show = show_search_results,
      .synopsis = "search-results ID", .summary = "a search's results so far" },
    { .name = "hooks", .parse = parse_hooks, .show = show_hooks, .synopsis = "hooks",
      .summary = "the hook programs and webhooks: counters (docs/hooks.md)" },
    { .name = "hooks-test", .show = show_hooks_test,
      .synopsis = "hooks test EVENT [--name N] [--path P] [--size B] [--error T]",
      .summary = "fire a test event (added, completed, failed, disk_full):\n"
                 "run its hook program and send its webhooks" },
    { .name = "help", .parse = parse_none, .show = show_help, .synopsis = "help",
      .summary = "the commands the daemon knows" },
    { .name = "call", .parse = parse_call, .synopsis = "call CMD [JSON]",
      .summary = "send any control command with a JSON object of arguments" },
    /* without the daemon: after the others, under their own heading */
    { .name = "hash-password", .parse = parse_stdin, .local = passwd_hash_command,
      .synopsis = "hash-password",
      .summary = "read a password on stdin, print its pbkdf2-sha256 string\n"
                 "(for web_password in muleteer.conf)" },
    { .name = "passwd", .parse = parse_stdin, .local = passwd_change_command,
      .synopsis = "passwd",
      .summary = "read a new web password on stdin and write its hash to\n"
                 "web_password in $MULETEER_CONF, else\n"
                 "$MULETEER_VAR/muleteer.conf, else var/muleteer.conf" },
    { .name = "user", .local_args = user_command, .local = NULL,
      .synopsis = "user add NAME [--admin] [--caps LIST]",
      .summary = "a web API account (its password on stdin); LIST:\n"
                 "search,add_downloads,remove_downloads,... or all\n"
                 "(docs/web-api.md); in the configuration's database" },
    { .name = "user-remove", .synopsis = "user remove NAME | user passwd NAME | user list",
      .summary = "remove an account, set its password (stdin), list them" },
    { .name = "user-api-key", .synopsis = "user api-key NAME",
      .summary = "print a new API key of the account (the old one stops)" },
};

static const command_t *
find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* The help text: a short synopsis shares its line with the summary, which
 * starts in a column; a longer one is followed by three spaces, or by a new
 * line when the summary would not fit in the width. */
#define HELP_COLUMN 18                    /* width of a short synopsis */
#define HELP_INDENT (2 + HELP_COLUMN + 1) /* where summaries start */
#define HELP_WIDTH 80

static void
usage_command(FILE *out, const command_t *k)
{
    const char *sum = k->summary != NULL ? k->summary : "";
    size_t len = strlen(k->synopsis), first = strcspn(sum, "\n");
    if (*sum == '\0')
        fprintf(out, "  %s\n", k->synopsis);
    else if (len <= HELP_COLUMN)
        fprintf(out, "  %-*s %.*s\n", HELP_COLUMN, k->synopsis, (int)first, sum);
    else if (2 + len + 3 + first <= HELP_WIDTH)
        fprintf(out, "  %s   %.*s\n", k->synopsis, (int)first, sum);
    else
        fprintf(out, "  %s\n%*s%.*s\n", k->synopsis, HELP_INDENT, "", (int)first, sum);
    for (const char *p = sum + first; *p == '\n';) {
        p++;
        size_t n = strcspn(p, "\n");
        fprintf(out, "%*s%.*s\n", HELP_INDENT, "", (int)n, p);
        p += n;
    }
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: muleteer [--socket PATH] [--node NAME [--key KEY]] [--json]\n"
                 "                [--timeout SECONDS] COMMAND [ARGS]\n"
                 "\n"
                 "commands:\n");
    bool local = false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command_t *k = &commands[i];
        if (k->synopsis == NULL)
            continue;
        if ((k->local != NULL || k->local_args != NULL) && !local) {
            fprintf(out, "\nwithout the daemon:\n");
            local = true;
        }
        usage_command(out, k);
    }
    fprintf(out,
            "\n"
            "The daemon's socket is --socket PATH, else $MULETEER_VAR/run/muleteerd.sock\n"
            "(or control_socket in $MULETEER_VAR/muleteer.conf), else var/run/muleteerd.sock.\n"
            "--node NAME sends the command to node NAME's daemon through the configuration's\n"
            "database (unless NAME is this node), waiting --timeout for its answer; --key KEY\n"
            "makes a command sent again with the same KEY one effect (docs/cluster.md).\n"
            "Exit status: 0 ok, 1 the daemon answered with an error (or hash-password or\n"
            "passwd failed), 2 usage, 3 daemon unreachable, 4 no permission to use the\n"
            "daemon's socket. user: 1 when it failed, 3 when the database is unreachable.\n");
}

/* show_answer: the answer to req, with the printer of the command it sent
 * (also for call), else as JSON. */
static int
show_answer(ctl_client_t *c, const request_t *req, json_object *result, bool as_json)
{
    const command_t *k = find_command(req->show_as != NULL ? req->show_as : req->cmd);
    if (as_json || k == NULL || k->show == NULL) {
        show_json(result);
        return EXIT_OK;
    }
    return k->show(c, req, result);
}

/* Where a command goes: the socket (node NULL or this node's), or another
 * node through the database. */
typedef struct {
    const char *socket_path; /* NULL: the default one */
    const char *node;        /* --node */
    const char *key;         /* --key */
    int timeout_s;
    bool as_json;
} target_t;

/* call_node: sends req to another node through the database and prints
 * its answer (a printer makes no further calls: it gets no client). */
static int
call_node(const request_t *req, const target_t *t)
{
    json_object *result = NULL;
    int status = remote_call(req, t->node, t->key, t->timeout_s, t->as_json, &result);
    if (status == EXIT_OK)
        status = show_answer(NULL, req, result, t->as_json);
    json_object_put(result);
    return status;
}

/* call_daemon: sends req to the daemon at socket_path (NULL: the default
 * one) and prints its answer; the exit status. */
static int
call_daemon(const request_t *req, const char *socket_path, int timeout_s, bool as_json)
{
    signal(SIGPIPE, SIG_IGN);
    char *path = socket_path != NULL ? xstrdup(socket_path) : ctl_socket_path();
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(path, timeout_s * 1000, &err);
    if (c == NULL) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        int st = err->code == MT_ERR_PERMISSION ? EXIT_PERMISSION : EXIT_UNREACHABLE;
        mt_error_free(err);
        free(path);
        return st;
    }
    json_object *result = NULL;
    int status = EXIT_OK;
    if (ctl_client_call(c, req->cmd, req->args, &result, &err) != 0) {
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
    } else {
        status = show_answer(c, req, result, as_json);
    }
    json_object_put(result);
    ctl_client_free(c);
    free(path);
    return status;
}

/* run_command: the command typed, with its nargs arguments at av. */
static int
run_command(const char *name, int nargs, char **av, const target_t *t)
{
    const command_t *k = find_command(name);
    if (k != NULL && k->local_args != NULL)
        return k->local_args(nargs, av);
    if (k == NULL || k->parse == NULL) {
        fprintf(stderr, "muleteer: unknown command \"%s\"\n", name);
        usage(stderr);
        return EXIT_USAGE;
    }
    request_t req = { .cmd = name, .args = NULL, .search_wait = 120 };
    int status = k->parse(&req, nargs, av);
    if (status != EXIT_OK)
        return status;
    if (k->local != NULL)
        return k->local() == 0 ? EXIT_OK : EXIT_CMD_ERROR;
    if (t->node != NULL && !remote_is_local(t->node))
        status = call_node(&req, t);
    else
        status = call_daemon(&req, t->socket_path, t->timeout_s, t->as_json);
    json_object_put(req.args);
    return status;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 't' },
        { "node", required_argument, NULL, 'n' },
        { "key", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    target_t t = { .timeout_s = 10 };
    int opt;
    while ((opt = getopt_long(argc, argv, "+s:jt:n:k:h", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            t.socket_path = optarg;
            break;
        case 'n':
            t.node = optarg;
            break;
        case 'k':
            t.key = optarg;
            break;
        case 'j':
            t.as_json = true;
            break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > 3600) {
                fprintf(stderr, "muleteer: --timeout wants 1 to 3600 seconds\n");
                return EXIT_USAGE;
            }
            t.timeout_s = (int)v;
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
    if (t.key != NULL && t.node == NULL) {
        fprintf(stderr, "muleteer: --key goes with --node\n");
        return EXIT_USAGE;
    }
    return run_command(argv[optind], argc - optind - 1, argv + optind + 1, &t);
}
