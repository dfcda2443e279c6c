/* main.c: muleteer-ws, the WebSocket server of aMuTorrent's protocol
 * (docs/websocket.md): reads the configuration, listens on ws_socket (a
 * Unix socket the web server forwards /ws to), runs libwebsockets' loop
 * until SIGTERM or SIGINT. libwebsockets as Debian 12 builds it has no
 * libevent loop, so this program is a process of its own, like the
 * FastCGI programs, and reaches the daemon over the control socket. */
#include "config.h"

#include "ws/wsd.h"
#include "ws/item.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* libwebsockets' own log lines join ours */
static void
lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    if (level & LLL_ERR)
        log_error("ws: lws: %.*s", (int)n, line);
    else
        log_warn("ws: lws: %.*s", (int)n, line);
}

static int
load_conf(wsd_t *w, const char *path)
{
    mt_error_t *err = NULL;
    w->conf = conf_new();
    if (conf_load_file(w->conf, path, &err) != 0) {
        fprintf(stderr, "muleteer-ws: %s\n", err->message);
        mt_error_free(err);
        return -1;
    }
    webauth_conf_from(&w->ac, w->conf);
    w->max_clients = (size_t)conf_get_int(w->conf, "ws_max_clients");
    w->max_frame = (size_t)conf_get_int(w->conf, "ws_max_frame");
    w->max_queue = (size_t)conf_get_int(w->conf, "ws_max_queue");
    w->session_check_s = (int)conf_get_int(w->conf, "ws_session_check");
    ws_instance_id(conf_get_str(w->conf, "node_name"), w->instance_id, sizeof w->instance_id);
    snprintf(w->instance_name, sizeof w->instance_name, "Muleteer (%s)",
             conf_get_str(w->conf, "node_name"));
    return 0;
}

static int
start(wsd_t *w)
{
    const char *path = conf_get_str(w->conf, "ws_socket");
    unlink(path); /* a socket left by a killed server */
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    /* the listening vhost is made on its own: a Unix socket is a vhost's
     * option, which the context's implicit vhost does not take */
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.port = 0; /* with LWS_SERVER_OPTION_UNIX_SOCK: iface is the path */
    info.protocols = wsd_protocols;
    info.user = w;
    info.fd_limit_per_thread = (unsigned int)w->max_clients + 64;
    info.timeout_secs = 10;
    info.max_http_header_data = 8192;
    w->lws = lws_create_context(&info);
    if (w->lws == NULL) {
        log_error("ws: cannot start libwebsockets");
        return -1;
    }
    /* the daemon's commands and the database's queries: off the loop */
    if (wsd_tasks_start(w) != 0)
        return -1;
    /* a client that said nothing for 30 s is pinged (its pong keeps it, and
     * keeps web servers that close idle connections, lighttpd after 60 s,
     * from closing it); one silent for 70 s, pong included, is gone */
    static const lws_retry_bo_t idle = { .secs_since_valid_ping = 30, .secs_since_valid_hangup = 70 };
    info.retry_and_idle_policy = &idle;
    info.options = LWS_SERVER_OPTION_UNIX_SOCK;
    info.iface = path;
    mode_t old = umask(0117); /* the socket: its user and group (the web server) */
    w->vhost = lws_create_vhost(w->lws, &info);
    umask(old);
    if (w->vhost == NULL) {
        log_error("ws: cannot listen on %s", path);
        return -1;
    }
    wsd_feed_start(w);
    lws_sul_schedule(w->lws, 0, &w->sul_session, wsd_session_check,
                     (lws_usec_t)w->session_check_s * LWS_US_PER_SEC);
    log_info("muleteer-ws started: pid %ld, socket %s, instance %s", (long)getpid(), path,
             w->instance_id);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *conf_file = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (ch == 'c') {
            free(conf_file);
            conf_file = xstrdup(optarg);
        } else {
            fprintf(stderr, "usage: muleteer-ws [-c muleteer.conf]\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (conf_file == NULL)
        conf_file = getenv("MULETEER_CONF") != NULL ? xstrdup(getenv("MULETEER_CONF")) : conf_default_file();
    wsd_t w;
    memset(&w, 0, sizeof w);
    w.search_id = -1;
    if (load_conf(&w, conf_file) != 0)
        return 1;
    log_set_ident("muleteer-ws");
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse(conf_get_str(w.conf, "log_level"), &level);
    log_set_level(level);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = 1;
    if (start(&w) == 0) {
        while (!stopping && lws_service(w.lws, 0) >= 0)
            ;
        rc = 0;
    }
    if (w.lws != NULL)
        wsd_tasks_stop(&w); /* the tasks under way end, the workers stop */
    if (rc == 0)
        log_info("muleteer-ws stopped");
    w.stopping = true;
    if (w.lws != NULL)
        lws_context_destroy(w.lws);
    wsd_feed_stop(&w);
    wsd_search_free(&w);
    if (w.db != NULL)
        PQfinish(w.db);
    wsd_tasks_free(&w);
    unlink(conf_get_str(w.conf, "ws_socket"));
    conf_free(w.conf);
    free(conf_file);
    return rc;
}
