/* check_cli.c: the muleteer client (cli/) as a user runs it, against a
 * fake daemon: for each command, the control requests it sends, what it
 * prints and its exit status; usage errors; the help text. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/file.h"
#include "util/xalloc.h"

static char dir[64];
static char sock_path[128];

/* fake_daemon: answers each request line on sock_path with the next of
 * replies (a result as JSON text, or "!CODE MESSAGE" for an error reply)
 * and writes "CMD ARGS" for each request into dir/requests. */
static pid_t
fake_daemon(const char *const *replies)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid != 0) {
        close(fd);
        return pid;
    }
    char *log_path = xasprintf("%s/requests", dir);
    FILE *log = fopen(log_path, "w");
    int c = accept(fd, NULL, NULL);
    FILE *in = fdopen(c, "r");
    char *line = NULL;
    size_t cap = 0;
    for (size_t i = 0; getline(&line, &cap, in) > 0; i++) {
        json_object *req = json_tokener_parse(line), *id = NULL, *cmd = NULL, *args = NULL;
        json_object_object_get_ex(req, "id", &id);
        json_object_object_get_ex(req, "cmd", &cmd);
        json_object_object_get_ex(req, "args", &args);
        fprintf(log, "%s %s\n", json_object_get_string(cmd),
                args != NULL ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE)
                             : "null");
        fflush(log);
        const char *reply = replies[i] != NULL ? replies[i] : "{}";
        char *out;
        if (reply[0] == '!') {
            const char *sp = strchr(reply, ' ');
            json_object *msg = json_object_new_string(sp + 1);
            out = xasprintf("{\"id\":%s,\"error\":{\"code\":\"%.*s\",\"message\":%s}}\n",
                            json_object_get_string(id), (int)(sp - reply - 1), reply + 1,
                            json_object_to_json_string(msg));
            json_object_put(msg);
        } else {
            out = xasprintf("{\"id\":%s,\"result\":%s}\n", json_object_get_string(id), reply);
        }
        if (write(c, out, strlen(out)) < 0)
            _exit(1);
        free(out);
        json_object_put(req);
    }
    _exit(0);
}

typedef struct {
    int status;
    char *out, *err, *requests;
} run_t;

static char *
slurp(const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    size_t len;
    char *text = (char *)mt_file_read(path, 1 << 20, &len, NULL);
    free(path);
    return text != NULL ? text : xstrdup("");
}

/* run: muleteer --socket SOCK ARGV..., answered with replies (NULL: no
 * daemon at all). */
static run_t
run(const char *const *argv, const char *const *replies)
{
    snprintf(dir, sizeof dir, "/tmp/check_cli.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock_path, sizeof sock_path, "%s/s.sock", dir);
    pid_t daemon = replies != NULL ? fake_daemon(replies) : -1;
    const char *bd = getenv("MT_BUILDDIR");
    char *bin = xasprintf("%s/bin/muleteer", bd != NULL ? bd : ".");
    const char *args[32] = { bin, "--socket", sock_path };
    size_t n = 3;
    for (size_t i = 0; argv[i] != NULL && n < 31; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *o = xasprintf("%s/out", dir), *e = xasprintf("%s/err", dir);
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fi = open("/dev/null", O_RDONLY);
        if (fo < 0 || fe < 0 || fi < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(126);
        execv(bin, (char *const *)args);
        _exit(127);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "muleteer died: %d", st);
    if (daemon > 0) {
        kill(daemon, SIGKILL);
        waitpid(daemon, NULL, 0);
    }
    run_t r = { WEXITSTATUS(st), slurp("out"), slurp("err"), slurp("requests") };
    const char *names[] = { "out", "err", "requests", "s.sock" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = xasprintf("%s/%s", dir, names[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    free(bin);
    return r;
}

static void
run_free(run_t *r)
{
    free(r->out);
    free(r->err);
    free(r->requests);
}

typedef struct {
    const char *argv[12];
    const char *replies[4];
    const char *requests; /* "CMD ARGS\n" for each request sent */
    const char *out;      /* all of stdout */
    const char *err;      /* a part of stderr; "" for an empty one */
    int status;
} cli_case_t;

#define DL "{\"hash\":\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"progress\":0.5,\"state\":\"queued\"," \
           "\"size\":1536,\"rate\":0,\"sources\":{\"transferring\":1,\"total\":3},\"name\":\"new\"}"
#define DL_LINE "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee   50.0%  queued         1.5 KiB        0 B/s  " \
                "1/3 sources  new\n"

static const cli_case_t cases[] = {
    /* each command: its request, its printer */
    { { "ping" }, { "{\"pong\":true}" }, "ping null\n", "pong\n", "", 0 },
    { { "status" },
      { "{\"version\":\"0.1\",\"node\":\"n1\",\"pid\":42,\"uptime\":93784,\"started_at\":\"S\","
        "\"database\":{\"connected\":false,\"since\":\"T\",\"error\":\"down\"},\"tcp_port\":1,"
        "\"udp_port\":2,\"server\":{\"state\":\"connected\",\"host\":\"h\",\"port\":3,\"name\":"
        "\"n\",\"lowid\":true,\"client_id\":5,\"users\":6,\"files\":7},\"control_socket\":\"/s\","
        "\"config_file\":\"/c\"}" },
      "status null\n",
      "muleteerd 0.1 on node n1, pid 42, up 1d 2h 3m (since S)\n"
      "database:        NOT CONNECTED since T: down\n"
      "eD2K ports:      TCP 1, UDP 2\n"
      "eD2K server:     h:3 (n), LowID 5, 6 users, 7 files\n"
      "control socket:  /s\n"
      "config file:     /c\n",
      "", 0 },
    { { "add", "ed2k://|file|x|1|AA|/", "--category", "tv", "--priority", "high" },
      { DL },
      "add {\"link\":\"ed2k://|file|x|1|AA|/\",\"category\":\"tv\",\"priority\":\"high\"}\n",
      DL_LINE, "", 0 },
    { { "priority", "ee", "low" }, { DL }, "priority {\"hash\":\"ee\",\"priority\":\"low\"}\n",
      DL_LINE, "", 0 },
    { { "pause", "ee" }, { DL }, "pause {\"hash\":\"ee\"}\n", DL_LINE, "", 0 },
    { { "resume", "ee" }, { DL }, "resume {\"hash\":\"ee\"}\n", DL_LINE, "", 0 },
    { { "stop", "ee" }, { DL }, "stop {\"hash\":\"ee\"}\n", DL_LINE, "", 0 },
    { { "downloads" },
      { "{\"downloads\":[" DL ",{\"hash\":\"aa\",\"state\":\"paused\",\"sources_dropped\":"
        "{\"banned\":2,\"full\":0},\"error\":\"disk full\"}]}" },
      "downloads null\n",
      DL_LINE "aa    0.0%  paused             0 B        0 B/s  0/0 sources  ?\n"
              "    sources dropped: 2 banned\n"
              "    error: disk full\n",
      "", 0 },
    { { "delete", "--files", "ee" }, { "{\"deleted\":\"file\",\"path\":\"/d/x\"}" },
      "delete {\"hash\":\"ee\",\"delete_files\":true}\n", "deleted the file /d/x\n", "", 0 },
    { { "delete", "ee" }, { "{\"deleted\":\"download\"}" }, "delete {\"hash\":\"ee\"}\n",
      "deleted the download\n", "", 0 },
    { { "shared" }, { "{\"files\":[{\"hash\":\"cc\",\"size\":5000,\"path\":\"/s/x\"}]}" },
      "shared null\n", "cc    4.9 KiB  /s/x\n", "", 0 },
    { { "rescan" }, { "{}" }, "rescan null\n", "scanning the shared directories\n", "", 0 },
    { { "uploads" },
      { "{\"rate\":3000,\"queued\":3,\"slots\":[{\"hash\":\"dd\",\"sent\":123456,\"peer\":\"p\"}]}" },
      "uploads null\n",
      "uploading 2.9 KiB/s in 1 slot(s), 3 client(s) queued\n"
      "  dd   120.6 KiB sent  p\n",
      "", 0 },
    { { "limits", "--up", "10", "--down", "0" },
      { "{\"max_upload\":10,\"max_download\":0,\"upload_rate\":5,\"download_rate\":6}" },
      "limits {\"max_upload\":10,\"max_download\":0}\n",
      "upload limit:   10 KiB/s\ndownload limit: none\nrates now:      up 5 B/s, down 6 B/s\n",
      "", 0 },
    { { "limits", "--alt-down", "20", "--alt", "on" },
      { "{\"max_upload\":0,\"max_download\":0,\"alt_max_upload\":10,\"alt_max_download\":20,"
        "\"alt_mode\":true,\"upload_rate\":0,\"download_rate\":0}" },
      "limits {\"alt_max_download\":20,\"alt_mode\":true}\n",
      "upload limit:   none\ndownload limit: none\n"
      "alternative:    up 10 KiB/s, down 20 KiB/s (in force)\n"
      "rates now:      up 0 B/s, down 0 B/s\n",
      "", 0 },
    { { "connect", "h:1" }, { "{\"state\":\"connecting\",\"host\":\"h\",\"port\":1}" },
      "connect {\"host\":\"h\",\"port\":1}\n", "eD2K server:     connecting (h:1)\n", "", 0 },
    { { "connect" }, { "{\"state\":\"connecting\"}" }, "connect null\n",
      "eD2K server:     connecting\n", "", 0 },
    { { "disconnect" }, { "{\"state\":\"disconnected\"}" }, "disconnect null\n",
      "eD2K server:     disconnected\n", "", 0 },
    { { "server" }, { "{\"state\":\"disconnected\"}" }, "server null\n",
      "eD2K server:     disconnected\n", "", 0 },
    { { "servers" },
      { "{\"servers\":[{\"address\":\"1.2.3.4\",\"port\":4661,\"connected\":true,\"priority\":"
        "\"high\",\"users\":1,\"files\":2,\"ping_ms\":30,\"failures\":0,\"is_static\":true,"
        "\"name\":\"srv\"}],\"imports\":[{\"url\":\"http://v\",\"state\":\"failed\",\"added\":0,"
        "\"total\":0,\"error\":\"404\"}]}" },
      "servers null\n",
      "* 1.2.3.4:4661             high          1 users          2 files  ping   30 ms  fails 0 "
      "static  srv\n"
      "import http://v: failed, 0 new of 0: 404\n",
      "", 0 },
    { { "servers", "add", "1.2.3.4:4661", "--static", "--priority", "high" },
      { "{\"added\":true,\"address\":\"1.2.3.4\",\"port\":4661}" },
      "server-add {\"address\":\"1.2.3.4\",\"port\":4661,\"static\":true,\"priority\":\"high\"}\n",
      "added 1.2.3.4:4661\n", "", 0 },
    { { "servers", "remove", "1.2.3.4:4661" }, { "{\"removed\":true}" },
      "server-remove {\"address\":\"1.2.3.4\",\"port\":4661}\n", "removed\n", "", 0 },
    { { "servers", "import", "/tmp/x.met" }, { "{\"added\":2,\"total\":5}" },
      "servers-import {\"source\":\"/tmp/x.met\"}\n", "2 new server(s) of 5\n", "", 0 },
    { { "servers", "import", "http://u/s.met" },
      { "{\"import\":{\"url\":\"http://u/s.met\",\"state\":\"fetching\"}}",
        "{\"servers\":[],\"imports\":[{\"url\":\"http://u/s.met\",\"state\":\"done\","
        "\"added\":1,\"total\":9}]}" },
      "servers-import {\"source\":\"http://u/s.met\"}\nservers null\n",
      "1 new server(s) of 9 from http://u/s.met\n", "", 0 },
    { { "kad" },
      { "{\"state\":\"connected\",\"id\":\"0a\",\"udp_port\":4672,\"contacts\":3,"
        "\"verified\":2,\"bins\":1,\"bootstrapping\":0,\"datagrams_in\":5,"
        "\"datagrams_out\":6,\"dropped\":1,\"malformed\":0}" },
      "kad-status null\n",
      "Kad: connected, id 0a, UDP port 4672\n"
      "contacts: 3 (2 verified) in 1 bins; bootstrapping from 0\n"
      "datagrams: 5 in, 6 out, 1 dropped, 0 malformed\n",
      "", 0 },
    { { "kad", "status", "--contacts" },
      { "{\"state\":\"connecting\",\"id\":\"0a\",\"contact_list\":[{\"id\":\"0b\","
        "\"address\":\"100.64.1.1\",\"udp_port\":4672,\"tcp_port\":4662,\"version\":8,"
        "\"verified\":true}]}" },
      "kad-status {\"contacts\":true}\n",
      "Kad: connecting, id 0a, UDP port 0\n"
      "contacts: 0 (0 verified) in 0 bins; bootstrapping from 0\n"
      "datagrams: 0 in, 0 out, 0 dropped, 0 malformed\n"
      "  0b 100.64.1.1:4672 tcp 4662 v8 verified\n",
      "", 0 },
    { { "hooks" },
      { "{\"programs\":{\"running\":1,\"queued\":2,\"started\":3,\"succeeded\":4,"
        "\"failed\":5,\"killed\":6,\"dropped\":7},\"webhooks\":{\"pending\":8,"
        "\"queued\":9,\"delivered\":10,\"retried\":11,\"failed\":12,\"dropped\":13}}" },
      "hooks null\n",
      "programs: 1 running, 2 queued; 3 started, 4 succeeded, 5 failed, 6 killed, 7 dropped\n"
      "webhooks: 8 pending; 9 queued, 10 delivered, 11 retried, 12 failed, 13 dropped\n",
      "", 0 },
    { { "hooks", "test", "completed", "--name", "a b", "--size", "5", "--path", "/x" },
      { "{\"event\":\"completed\",\"program\":\"started\",\"webhooks\":2}" },
      "hooks-test {\"event\":\"completed\",\"name\":\"a b\",\"size\":5,\"path\":\"/x\"}\n",
      "test event completed: program started, 2 webhook(s) queued\n", "", 0 },
    { { "import-emule", "/", "--dry-run" },
      { "{\"kind\":\"emule\",\"dir\":\"/\",\"temp_dir\":\"/T\",\"dry_run\":true,"
        "\"downloads\":[{\"status\":\"would import\",\"hash\":\"ab\",\"name\":\"f\","
        "\"size\":10,\"present\":4,\"category\":\"tv\"}],"
        "\"known\":{\"status\":\"would seed\",\"records\":3,\"found\":2}}" },
      "import-amule {\"dir\":\"/\",\"kind\":\"emule\",\"dry_run\":true,\"move\":false,"
      "\"limits\":false}\n",
      "emule directory / (temp /T, incoming none): dry run, nothing changed\n"
      "downloads: 1\n"
      "  would import ab f (4 of 10 bytes) [tv]\n"
      "known.met: would seed, 3 records, 2 found\n",
      "", 0 },
    { { "kad", "disconnect" },
      { "{\"state\":\"off\",\"id\":\"0a\",\"udp_port\":4672,\"firewalled\":false,"
        "\"firewall_checking\":false,\"external_address\":\"100.64.2.1\","
        "\"firewall_connect_backs_heard\":2,\"firewall_checks_answered\":3}" },
      "kad-disconnect null\n",
      "Kad: off, id 0a, UDP port 4672\n"
      "contacts: 0 (0 verified) in 0 bins; bootstrapping from 0\n"
      "datagrams: 0 in, 0 out, 0 dropped, 0 malformed\n"
      "firewall: open, address 100.64.2.1; 2 connect-back(s) heard, 3 check(s) answered\n",
      "", 0 },
    { { "kad", "connect" }, { "{\"state\":\"connecting\",\"id\":\"0a\",\"firewalled\":true,"
        "\"firewall_checking\":true,\"external_address\":null}" },
      "kad-connect null\n",
      "Kad: connecting, id 0a, UDP port 0\n"
      "contacts: 0 (0 verified) in 0 bins; bootstrapping from 0\n"
      "datagrams: 0 in, 0 out, 0 dropped, 0 malformed\n"
      "firewall: firewalled (checking), address unknown; 0 connect-back(s) heard, 0 check(s) "
      "answered\n",
      "", 0 },
    { { "kad", "import", "/x/nodes.dat" }, { "{\"added\":2,\"total\":3,\"contacts\":5}" },
      "kad-import {\"source\":\"/x/nodes.dat\"}\n", "2 new contact(s) of 3; 5 in the table\n", "", 0 },
    { { "kad", "lookup", "0123456789abcdef0123456789abcdef" },
      { "{\"lookup\":3,\"state\":\"running\"}",
        "{\"lookup\":3,\"target\":\"0123456789abcdef0123456789abcdef\",\"state\":\"done\","
        "\"elapsed_ms\":12,\"requests\":4,\"answered\":3,\"timeouts\":1,\"closest\":[{\"id\":"
        "\"0a\",\"address\":\"1.2.3.4\",\"udp_port\":4672}]}" },
      "kad-lookup {\"target\":\"0123456789abcdef0123456789abcdef\"}\n"
      "kad-lookup {\"lookup\":3}\n",
      "lookup 3 for 0123456789abcdef0123456789abcdef: done after 12 ms, 4 request(s), 3 "
      "answer(s), 1 timeout(s)\n"
      "  0a 1.2.3.4:4672\n",
      "", 0 },
    { { "kad", "bootstrap", "1.2.3.4:4672" }, { "{\"state\":\"connecting\",\"id\":\"0a\"}" },
      "kad-bootstrap {\"address\":\"1.2.3.4\",\"port\":4672}\n",
      "Kad: connecting, id 0a, UDP port 0\n"
      "contacts: 0 (0 verified) in 0 bins; bootstrapping from 0\n"
      "datagrams: 0 in, 0 out, 0 dropped, 0 malformed\n",
      "", 0 },
    { { "categories" },
      { "{\"categories\":[{\"name\":\"tv\",\"incoming_path\":\"/tv\",\"priority\":1,\"colour\":255,"
        "\"comment\":\"c\"}]}" },
      "categories null\n", "tv                   /tv  priority 1  #0000ff  c\n", "", 0 },
    { { "category", "add", "tv", "--path", "/tv", "--priority", "2", "--colour", "#00ff00",
        "--comment", "hi" },
      { "{\"name\":\"tv\",\"incoming_path\":\"/tv\"}" },
      "category-add {\"name\":\"tv\",\"incoming_path\":\"/tv\",\"priority\":2,\"colour\":65280,"
      "\"comment\":\"hi\"}\n",
      "tv  /tv\n", "", 0 },
    { { "category", "edit", "tv", "--rename", "tv2" }, { "{\"name\":\"tv2\",\"incoming_path\":\"/x\"}" },
      "category-edit {\"name\":\"tv\",\"new_name\":\"tv2\"}\n", "tv2  /x\n", "", 0 },
    { { "category", "remove", "tv" }, { "{\"downloads\":3}" },
      "category-remove {\"name\":\"tv\"}\n", "removed; 3 download(s) without a category now\n",
      "", 0 },
    { { "search", "--local", "--wait", "0", "fake", "share" },
      { "{\"id\":7,\"normalized\":\"fake share\"}",
        "{\"search\":{\"id\":7,\"state\":\"running\",\"servers_asked\":2},\"results\":[{\"hash\":"
        "\"ff\",\"size\":700,\"sources\":3,\"complete_sources\":1,\"name\":\"x y|%\"}]}" },
      "search {\"query\":\"fake share\",\"scope\":\"local\"}\n"
      "search-results {\"id\":7,\"offset\":0}\n",
      "search 7: fake share\n"
      "ff      700 B     3 src     1 complete  x y|%\n"
      "    ed2k://|file|x%20y%7C%25|700|ff|/\n"
      "search 7: still running, 1 result(s) from 2 server(s)\n",
      "", 0 },
    { { "search-results", "7" },
      { "{\"search\":{\"id\":7,\"state\":\"finished\",\"results\":0},\"results\":[]}" },
      "search-results {\"id\":7}\n", "search 7: finished, 0 result(s)\n", "", 0 },
    { { "help" }, { "{\"commands\":[{\"name\":\"ping\",\"summary\":\"check\"}]}" }, "help null\n",
      "  ping               check\n", "", 0 },
    /* call: any command; the answer printed by that command's printer */
    { { "call", "foo", "{\"a\":1}" }, { "{\"x\":[1]}" }, "foo {\"a\":1}\n",
      "{\n  \"x\":[\n    1\n  ]\n}\n", "", 0 },
    { { "call", "server-add", "{}" }, { "{\"added\":false,\"address\":\"a\",\"port\":1}" },
      "server-add {}\n", "already listed: a:1\n", "", 0 },
    { { "--json", "ping" }, { "{\"pong\":true}" }, "ping null\n", "{\n  \"pong\":true\n}\n", "",
      0 },
    /* the daemon's errors */
    { { "ping" }, { "!not_found no such \"thing\"" }, "ping null\n", "",
      "muleteer: no such \"thing\"\n", 1 },
    { { "--json", "ping" }, { "!not_found no such \"thing\"" }, "ping null\n",
      "{\"error\":{\"code\":\"not_found\",\"message\":\"no such \\\"thing\\\"\"}}\n", "", 1 },
    /* usage errors: nothing is sent */
    { { "ipfilter" },
      { "{\"source\":\"/x/ipfilter.dat\",\"level\":127,\"state\":\"loaded\",\"ranges\":3,"
        "\"lines\":4,\"bad_lines\":1,\"memory\":56,\"loaded_from\":\"/x/ipfilter.dat\","
        "\"loaded_at\":null,\"refresh_hours\":24,\"hits\":{\"peers_in\":1,\"peers_out\":0,"
        "\"sources\":2,\"servers\":0,\"total\":3}}" },
      "ipfilter null\n",
      "IP filter: /x/ipfilter.dat, loaded (level 127, refreshed every 24 h)\n"
      "ranges: 3 (4 line(s) read, 1 bad, 56 bytes)\n"
      "hits: 3 (peers in 1, peers out 0, sources 2, servers 0)\n",
      "", 0 },
    { { "ipfilter", "reload" },
      { "{\"source\":\"\",\"state\":\"none\",\"error\":\"x y\",\"hits\":{}}" },
      "ipfilter-reload null\n",
      "IP filter: none, none (level 0, refreshed every 0 h)\n"
      "ranges: 0 (0 line(s) read, 0 bad, 0 bytes)\n"
      "last error: x y\n"
      "hits: 0 (peers in 0, peers out 0, sources 0, servers 0)\n",
      "", 0 },
    { { "ipfilter", "x" }, { NULL }, "", "", "muleteer: usage: muleteer ipfilter [status", 2 },
    { { "status", "x" }, { NULL }, "", "", "muleteer: status takes no arguments\n", 2 },
    { { "pause" }, { NULL }, "", "", "muleteer: usage: muleteer pause HASH\n", 2 },
    { { "delete", "a", "b" }, { NULL }, "", "", "muleteer: usage: muleteer delete HASH [--files]\n",
      2 },
    { { "servers", "add", "h:0" }, { NULL }, "", "", "muleteer: usage: muleteer servers [add", 2 },
    { { "kad", "bootstrap", "1.2.3.4" }, { NULL }, "", "", "muleteer: usage: muleteer kad [status", 2 },
    { { "kad", "import" }, { NULL }, "", "", "muleteer: usage: muleteer kad [status", 2 },
    { { "hooks", "test" }, { NULL }, "", "", "muleteer: usage: muleteer hooks [test", 2 },
    { { "hooks", "test", "added", "--size", "-1" }, { NULL }, "", "",
      "muleteer: usage: muleteer hooks [test", 2 },
    { { "hooks", "test", "added", "--bogus", "x" }, { NULL }, "", "",
      "muleteer: usage: muleteer hooks [test", 2 },
    { { "servers", "remove", "h:1", "--static" }, { NULL }, "", "",
      "muleteer: unexpected \"--static\"\n", 2 },
    { { "category", "add", "tv", "--colour", "zz" }, { NULL }, "", "",
      "muleteer: bad option \"--colour zz\"\n", 2 },
    { { "limits", "--up", "x" }, { NULL }, "", "",
      "muleteer: usage: muleteer limits [--up KIB] [--down KIB] [--alt-up KIB] [--alt-down KIB] "
      "[--alt on|off]\n", 2 },
    { { "limits", "--alt", "maybe" }, { NULL }, "", "",
      "muleteer: usage: muleteer limits [--up KIB] [--down KIB] [--alt-up KIB] [--alt-down KIB] "
      "[--alt on|off]\n", 2 },
    { { "search", "--wait", "3601", "x" }, { NULL }, "", "",
      "muleteer: --wait wants 0 to 3600 seconds\n", 2 },
    { { "search-results", "0" }, { NULL }, "", "", "muleteer: usage: muleteer search-results ID\n",
      2 },
    { { "call", "foo", "[1]" }, { NULL }, "", "", "muleteer: arguments must be a JSON object", 2 },
    { { "hash-password", "x" }, { NULL }, "", "",
      "muleteer: hash-password takes no arguments (the password comes on stdin)\n", 2 },
    { { "bogus" }, { NULL }, "", "", "muleteer: unknown command \"bogus\"\nusage: muleteer", 2 },
    /* what another command sends is not a command of its own */
    { { "server-add", "h:1" }, { NULL }, "", "", "muleteer: unknown command \"server-add\"", 2 },
    { { "category-remove", "tv" }, { NULL }, "", "", "unknown command \"category-remove\"", 2 },
};

START_TEST(test_commands)
{
    const cli_case_t *k = &cases[_i];
    run_t r = run(k->argv, k->replies);
    ck_assert_msg(r.status == k->status, "%s: status %d, want %d (stderr %s)", k->argv[0],
                  r.status, k->status, r.err);
    ck_assert_str_eq(r.requests, k->requests);
    ck_assert_str_eq(r.out, k->out);
    if (k->err[0] == '\0')
        ck_assert_str_eq(r.err, "");
    else
        ck_assert_msg(strstr(r.err, k->err) != NULL, "stderr \"%s\" lacks \"%s\"", r.err, k->err);
    run_free(&r);
}
END_TEST

/* No daemon: exit status 3, and the socket named. */
START_TEST(test_unreachable)
{
    const char *argv[] = { "ping", NULL };
    run_t r = run(argv, NULL);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "muleteerd is not running"));
    ck_assert_ptr_nonnull(strstr(r.err, sock_path));
    run_free(&r);
}
END_TEST

static const char help_text[] =
    "usage: muleteer [--socket PATH] [--node NAME [--key KEY]] [--json]\n"
    "                [--timeout SECONDS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  status             what the daemon is doing: version, uptime, database\n"
    "  ping               check that the daemon answers\n"
    "  add LINK [--category NAME] [--priority low|normal|high]\n"
    "                     download an ed2k://|file|...| link; an ed2k://|nodeslist|URL|/\n"
    "                     link imports Kad contacts, a server(list) link servers\n"
    "  priority HASH low|normal|high   change a download's priority\n"
    "  downloads          the downloads, with progress, speed and sources\n"
    "  pause HASH | resume HASH | stop HASH\n"
    "  delete HASH [--files]   cancel a download and remove its temporary data;\n"
    "                     with --files, remove a complete shared file from disk\n"
    "  shared             the shared files\n"
    "  rescan             scan the shared directories again\n"
    "  uploads            upload slots and queue\n"
    "  limits [--up KIB] [--down KIB] [--alt-up KIB] [--alt-down KIB] [--alt on|off]\n"
    "                     show or set the transfer limits (0: none)\n"
    "  limit HASH [--down KIB] [--up KIB]\n"
    "                     show or set one download's own limits (0: none), under the global ones\n"
    "  schedule [on|off] [\"HH:MM-HH:MM DAYS; ...\"]\n"
    "                     show or set when the alternative limits are in force\n"
    "                     (DAYS: every, weekdays, weekends, mon ... sun, comma-separated)\n"
    "  connect [HOST:PORT]   connect to an eD2K server (none: the best of the\n"
    "                     list, then the next); disconnect; server\n"
    "  servers            the server list\n"
    "  servers add HOST:PORT [--static] [--priority low|normal|high]\n"
    "  servers remove HOST:PORT\n"
    "  servers import SOURCE   a server.met path, an http(s) URL of one, or an\n"
    "                     ed2k://|server|...|/ or ed2k://|serverlist|...|/ link\n"
    "  kad [status [--contacts]]   the Kad node: state, id, contacts\n"
    "  kad bootstrap IP:PORT   ask the Kad node at IP and UDP PORT for contacts\n"
    "  kad connect        Kad on again: the saved contacts verified, then as at start\n"
    "  kad disconnect     no Kad traffic until kad connect (contacts kept)\n"
    "  kad import FILE|URL\n"
    "                     add the contacts of a nodes.dat: a file (read by the daemon),\n"
    "                     an http(s) URL or an ed2k://|nodeslist|URL|/ link\n"
    "  kad lookup ID      a node lookup for a Kad id (32 hex digits), followed\n"
    "                     until it ends: the contacts nearest it, requests used\n"
    "  import-amule DIR [--dry-run] [--move] [--limits]\n"
    "                     bring over an aMule directory (~/.aMule): downloads\n"
    "                     in progress with their data, categories, servers, Kad,\n"
    "                     credits, known files (not hashed again), shared dirs;\n"
    "                     --move removes the imported .part files, --limits\n"
    "                     takes its speed limits (docs/import.md)\n"
    "  import-emule DIR [--dry-run] [--move] [--limits]\n"
    "                     the same for an eMule directory (config/, Temp/)\n"
    "  ipfilter [status]  the IP filter: source, ranges, bad lines, hits\n"
    "  ipfilter reload    load the IP filter list again (file or URL)\n"
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
    "  hooks              the hook programs and webhooks: counters (docs/hooks.md)\n"
    "  hooks test EVENT [--name N] [--path P] [--size B] [--error T]\n"
    "                     fire a test event (added, completed, failed, disk_full):\n"
    "                     run its hook program and send its webhooks\n"
    "  help               the commands the daemon knows\n"
    "  call CMD [JSON]    send any control command with a JSON object of arguments\n"
    "\n"
    "without the daemon:\n"
    "  hash-password      read a password on stdin, print its pbkdf2-sha256 string\n"
    "                     (for web_password in muleteer.conf)\n"
    "  passwd             read a new web password on stdin and write its hash to\n"
    "                     web_password in $MULETEER_CONF, else\n"
    "                     $MULETEER_VAR/muleteer.conf, else var/muleteer.conf\n"
    "  user add NAME [--admin] [--caps LIST]\n"
    "                     a web API account (its password on stdin); LIST:\n"
    "                     search,add_downloads,remove_downloads,... or all\n"
    "                     (docs/web-api.md); in the configuration's database\n"
    "  user remove NAME | user passwd NAME | user list\n"
    "                     remove an account, set its password (stdin), list them\n"
    "  user api-key NAME  print a new API key of the account (the old one stops)\n"
    "\n"
    "The daemon's socket is --socket PATH, else $MULETEER_VAR/run/muleteerd.sock\n"
    "(or control_socket in $MULETEER_VAR/muleteer.conf), else var/run/muleteerd.sock.\n"
    "--node NAME sends the command to node NAME's daemon through the configuration's\n"
    "database (unless NAME is this node), waiting --timeout for its answer; --key KEY\n"
    "makes a command sent again with the same KEY one effect (docs/cluster.md).\n"
    "Exit status: 0 ok, 1 the daemon answered with an error (or hash-password or\n"
    "passwd failed), 2 usage, 3 daemon unreachable, 4 no permission to use the\n"
    "daemon's socket. user: 1 when it failed, 3 when the database is unreachable.\n";

/* --help on stdout (status 0); without a command, on stderr (status 2). */
START_TEST(test_help)
{
    const char *help[] = { "--help", NULL };
    run_t r = run(help, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, help_text);
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    const char *none[] = { NULL };
    r = run(none, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, help_text);
    run_free(&r);
}
END_TEST

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_commands, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_help);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
