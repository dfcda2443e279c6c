/* kad.h: the Kad node on the client UDP port: its id (kept in the state
 * directory), the routing table filled by bootstrap, hello and find-node
 * answers and verified by HELLO, nodes.dat saved and loaded (§8.2, §10). */
#ifndef MT_DAEMON_KAD_KAD_H
#define MT_DAEMON_KAD_KAD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadid.h"
#include "ed2k/search.h"
#include "util/error.h"

struct muleteerd;
typedef struct kad kad_t;

/* kad_new: the node of d (d->uploads, whose UDP port it shares, must
 * exist). Reads its id from <state_dir>/kad_id (32 hex digits; made at
 * random and saved on the first start; a file that holds no id is an
 * error) and its contacts from <state_dir>/nodes.dat. With the key "kad"
 * off, or no UDP port, the node stays off: no datagram is answered. */
kad_t *kad_new(struct muleteerd *d, mt_error_t **err);
/* kad_free: saves nodes.dat and frees the node (NULL is fine). */
void kad_free(kad_t *k);
/* kad_tick: once a second: bootstrap, hellos, lookups for our own id,
 * dead contacts dropped, nodes.dat saved now and then. */
void kad_tick(kad_t *k);
/* kad_bootstrap: asks the node at ip (eD2K form) and UDP port for contacts
 * (KADEMLIA2_BOOTSTRAP_REQ, repeated a few times until it answers).
 * MT_ERR_UNAVAILABLE when Kad is off. */
int kad_bootstrap(kad_t *k, uint32_t ip, uint16_t port, mt_error_t **err);
/* kad_import: the contacts of a nodes.dat file (versions 1 to 3, §8.2)
 * added to the table, unverified (HELLO verifies them); *added (may be
 * NULL) gets how many were new, *total how many the file had. Errors:
 * MT_ERR_UNAVAILABLE when Kad is off, the file's (MT_ERR_NOT_FOUND, ...),
 * the format's (MT_ERR_UNSUPPORTED, MT_ERR_PROTOCOL). */
int kad_import(kad_t *k, const char *path, size_t *added, size_t *total, mt_error_t **err);
/* kad_import_data: as kad_import, from a nodes.dat image in memory that
 * was read from source (named in the log). */
int kad_import_data(kad_t *k, const uint8_t *data, size_t len, const char *source, size_t *added,
                    size_t *total, mt_error_t **err);
/* kad_import_url: starts importing the nodes.dat at an http(s) URL
 * (fetched on a worker, nodesurl.h): the import's description {url, state
 * "fetching", ...} (caller puts it), or NULL with MT_ERR_UNAVAILABLE when
 * Kad is off, MT_ERR_INVALID for a URL that is not http(s). Its outcome
 * shows in kad_imports_to_json. On a start without saved contacts, the
 * node imports kad_nodes_url this way (when set). */
json_object *kad_import_url(kad_t *k, const char *url, mt_error_t **err);
/* kad_imports_to_json: the ten latest URL imports, newest first: {url,
 * state ("fetching", "done", "failed"), added, total, error, started}
 * (caller puts it). */
json_object *kad_imports_to_json(const kad_t *k);
/* kad_results_fn: keyword results of search search_id as they come (n
 * may be 0), then once with done true. The callee may take the strings of
 * r (zeroing the fields); Kad frees what is left. */
typedef void (*kad_results_fn)(void *ctx, int64_t search_id, ed2k_search_result_t *r, size_t n,
                               bool done);
/* kad_set_results_sink: where keyword results go (NULL: dropped). */
void kad_set_results_sink(kad_t *k, kad_results_fn fn, void *ctx);
/* kad_search_keyword: a Kad keyword search for search_id: the longest word
 * of keywords (split as eMule does) is hashed, looked up iteratively, and
 * the nodes closest to it within the search tolerance asked with
 * KADEMLIA2_SEARCH_KEY_REQ, with tree (the whole expression, §3.5) when
 * tree_len is not 0. Results reach the sink. MT_ERR_UNAVAILABLE when Kad
 * is off or not connected, MT_ERR_INVALID without a word of 3 bytes or
 * more, MT_ERR_TOO_LARGE when too many lookups run. */
int kad_search_keyword(kad_t *k, int64_t search_id, const char *keywords, const uint8_t *tree,
                       size_t tree_len, mt_error_t **err);
/* kad_probe_start: an iterative node lookup for target started on
 * demand (control command kad-lookup, for tests and the benchmark); its
 * answers fill the table as any lookup's do. *number gets its number for
 * kad_probe_to_json (the last 64 are remembered). MT_ERR_UNAVAILABLE when
 * Kad is off or not connected, or too many lookups run. */
int kad_probe_start(kad_t *k, const kad_id_t *target, unsigned *number, mt_error_t **err);
/* kad_probe_to_json: lookup number: target, state ("running", "done"),
 * elapsed_ms (to done), requests sent, answered, timeouts, and the
 * contacts that answered nearest the target first ("closest", at most
 * K). NULL when that number is unknown or forgotten; caller puts it. */
json_object *kad_probe_to_json(const kad_t *k, unsigned number);
/* kad_state: "off" (kad = no, no UDP port, or kad_disconnect),
 * "connecting" (no verified contact yet), "connected (open)" or
 * "connected (firewalled)" (our TCP firewall check, firewall.h). */
const char *kad_state(const kad_t *k);
bool kad_is_connected(const kad_t *k);
bool kad_is_firewalled(const kad_t *k);
/* kad_disconnect: no Kad traffic (datagrams dropped, lookups and searches
 * ended, nothing sent) until kad_connect; the contacts are kept and saved.
 * kad_connect: verifies the saved contacts again (HELLO) and goes on as
 * at start-up. Both are no-ops in the state they lead to;
 * MT_ERR_UNAVAILABLE when Kad is off by configuration. */
int kad_disconnect(kad_t *k, mt_error_t **err);
int kad_connect(kad_t *k, mt_error_t **err);
size_t kad_contact_count(const kad_t *k);
const kad_id_t *kad_me(const kad_t *k);
/* kad_to_json: state, id, ports, counts, and the contacts when
 * with_contacts. */
json_object *kad_to_json(const kad_t *k, bool with_contacts);

#endif
