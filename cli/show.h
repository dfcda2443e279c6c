/* show.h: the daemon's answers printed for people on stdout, one printer
 * for each command of the CLI (the table in muleteer.c). */
#ifndef MT_CLI_SHOW_H
#define MT_CLI_SHOW_H

#include <json-c/json.h>

#include "cli.h"
#include "ctl/client.h"

/* show_fn: prints the daemon's answer r to req. c is the connection, for
 * the commands that follow what they started: show_search prints the
 * results as they come, until the search ends or req->search_wait seconds
 * pass; show_import waits until a URL import is fetched. c is NULL for
 * another node's answer (muleteer --node): no further calls. Returns the exit
 * status. */
typedef int (*show_fn)(ctl_client_t *c, const request_t *req, json_object *r);

/* show_json: r as pretty JSON, the output of --json and of the commands
 * without a printer. */
void show_json(json_object *r);

int show_status(ctl_client_t *c, const request_t *req, json_object *r);
int show_pong(ctl_client_t *c, const request_t *req, json_object *r);
int show_help(ctl_client_t *c, const request_t *req, json_object *r);
int show_downloads(ctl_client_t *c, const request_t *req, json_object *r);
/* show_download: one download, the answer to add, pause, resume, stop and
 * priority. */
int show_download(ctl_client_t *c, const request_t *req, json_object *r);
int show_deleted(ctl_client_t *c, const request_t *req, json_object *r);
int show_shared(ctl_client_t *c, const request_t *req, json_object *r);
int show_rescan(ctl_client_t *c, const request_t *req, json_object *r);
int show_uploads(ctl_client_t *c, const request_t *req, json_object *r);
int show_limits(ctl_client_t *c, const request_t *req, json_object *r);
/* show_rate_limits: one download's own limits (rate-limits' answer). */
int show_rate_limits(ctl_client_t *c, const request_t *req, json_object *r);
/* show_schedule: the schedule (config's answer) and its state now (a
 * limits call). */
int show_schedule(ctl_client_t *c, const request_t *req, json_object *r);
/* show_server: the server connection, the answer to connect, disconnect
 * and server. */
int show_server(ctl_client_t *c, const request_t *req, json_object *r);
int show_servers(ctl_client_t *c, const request_t *req, json_object *r);
int show_server_added(ctl_client_t *c, const request_t *req, json_object *r);
int show_server_removed(ctl_client_t *c, const request_t *req, json_object *r);
int show_import(ctl_client_t *c, const request_t *req, json_object *r);
/* show_kad: the Kad node, the answer to kad status and kad bootstrap. */
int show_kad(ctl_client_t *c, const request_t *req, json_object *r);
int show_kad_import(ctl_client_t *c, const request_t *req, json_object *r);
/* show_added: add's answer: a download (show_download), or the import a
 * nodeslist link (show_kad_import) or a server(list) link (show_import)
 * started. */
int show_added(ctl_client_t *c, const request_t *req, json_object *r);
/* show_kad_lookup: follows a kad lookup (polling kad-lookup {lookup}) until
 * it is done or 30 s pass, then prints it. */
int show_kad_lookup(ctl_client_t *c, const request_t *req, json_object *r);
int show_hooks(ctl_client_t *c, const request_t *req, json_object *r);
int show_hooks_test(ctl_client_t *c, const request_t *req, json_object *r);
/* show_import_amule: what import-amule brought over (or would). */
int show_import_amule(ctl_client_t *c, const request_t *req, json_object *r);
/* show_ipfilter: the IP filter, the answer to ipfilter and ipfilter reload. */
int show_ipfilter(ctl_client_t *c, const request_t *req, json_object *r);
int show_categories(ctl_client_t *c, const request_t *req, json_object *r);
/* show_category: the answer to category add and category edit. */
int show_category(ctl_client_t *c, const request_t *req, json_object *r);
int show_category_removed(ctl_client_t *c, const request_t *req, json_object *r);
int show_search(ctl_client_t *c, const request_t *req, json_object *r);
int show_search_results(ctl_client_t *c, const request_t *req, json_object *r);

#endif
