/* muleteer.c: the command-line client: sends one command to muleteerd over
 * the control socket and prints the answer for people (or as JSON). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/client.h"
#include "util/xalloc.h"

/* Exit statuses, documented in usage(). */
enum { EXIT_OK = 0, EXIT_CMD_ERROR = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: muleteer [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  status             what the daemon is doing: version, uptime, database\n"
            "  ping               check that the daemon answers\n"
            "  help               the commands the daemon knows\n"
            "  call CMD [JSON]    send any control command with a JSON object of arguments\n"
            "\n"
            "The daemon's socket is --socket PATH, else $MULETEER_VAR/run/muleteerd.sock\n"
            "(or control_socket in $MULETEER_VAR/muleteer.conf), else var/run/muleteerd.sock.\n"
            "Exit status: 0 ok, 1 the daemon answered with an error, 2 usage, 3 daemon\n"
            "unreachable.\n");
}

static void
print_json(json_object *o)
{
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
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
    printf("control socket:  %s\n", str(r, "control_socket"));
    printf("config file:     %s\n", str(r, "config_file"));
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
    if (strcmp(cmd, "call") == 0) {
        if (optind >= argc || argc - optind > 2) {
            fprintf(stderr, "muleteer: usage: muleteer call CMD [JSON-OBJECT]\n");
            return EXIT_USAGE;
        }
        cmd = argv[optind++];
        if (optind < argc) {
            args = json_tokener_parse(argv[optind]);
            if (args == NULL || !json_object_is_type(args, json_type_object)) {
                fprintf(stderr, "muleteer: arguments must be a JSON object, e.g. '{\"x\":1}'\n");
                json_object_put(args);
                return EXIT_USAGE;
            }
        }
    } else if (strcmp(cmd, "status") != 0 && strcmp(cmd, "ping") != 0 &&
               strcmp(cmd, "help") != 0) {
        fprintf(stderr, "muleteer: unknown command \"%s\"\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    } else if (optind < argc) {
        fprintf(stderr, "muleteer: %s takes no arguments\n", cmd);
        return EXIT_USAGE;
    }

    signal(SIGPIPE, SIG_IGN);
    char *path = socket_opt != NULL ? xstrdup(socket_opt) : ctl_socket_path();
    mt_error_t *err = NULL;
    ctl_client_t *c = ctl_client_connect(path, timeout_s * 1000, &err);
    if (c == NULL) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        free(path);
        json_object_put(args);
        return EXIT_UNREACHABLE;
    }
    json_object *result = NULL;
    int rc = ctl_client_call(c, cmd, args, &result, &err);
    json_object_put(args);
    int status = EXIT_OK;
    if (rc != 0) {
        int remote = ctl_client_last_error(c) != 0;
        if (as_json && remote) {
            printf("{\"error\":{\"code\":\"%s\",\"message\":%s}}\n",
                   ctl_errcode_name(ctl_client_last_error(c)),
                   json_object_to_json_string(json_object_new_string(err->message)));
        } else {
            fprintf(stderr, "muleteer: %s\n", err->message);
        }
        status = remote ? EXIT_CMD_ERROR : EXIT_UNREACHABLE;
        mt_error_free(err);
    } else if (as_json) {
        print_json(result);
    } else if (strcmp(cmd, "status") == 0) {
        print_status(result);
    } else if (strcmp(cmd, "ping") == 0) {
        printf("pong\n");
    } else if (strcmp(cmd, "help") == 0) {
        print_help(result);
    } else {
        print_json(result);
    }
    json_object_put(result);
    ctl_client_free(c);
    free(path);
    return status;
}
