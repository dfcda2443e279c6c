/* search_results.h: one search's results, merged by hash as servers report
 * them (ed2k-protocol.md §3.5, §4): each server's counts kept apart and
 * added up, a server reporting again replacing its own. Pure: no network,
 * no database; search.c owns a set per search. */
#ifndef MT_DAEMON_SEARCH_RESULTS_H
#define MT_DAEMON_SEARCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/search.h"

#define SRES_MAX_RESULTS 2000   /* per search */
#define SRES_MAX_REPORTERS 16   /* servers counted per result */

/* The reporter address of Kad answers (a server never has it). */
#define SRES_KAD_IP 0xFFFFFFFFu
#define SRES_KAD_PORT 0

/* What one server (or Kad) said of a result. */
typedef struct sres_reporter {
    uint32_t ip;      /* the server (eD2K form); 0: the TCP server */
    uint16_t port;
    uint32_t sources, complete;
} sres_reporter_t;

typedef struct sres_result {
    ed2k_search_result_t r;  /* sources/complete_sources: the merged totals */
    sres_reporter_t rep[SRES_MAX_REPORTERS];
    size_t n_rep;
    bool dirty;              /* changed since the database last had it */
} sres_result_t;

/* The results of one search, in the order they first came. Zeroed is
 * empty; free the contents with sres_clear. */
typedef struct sres_set {
    sres_result_t **v;
    size_t n;
} sres_set_t;

/* sres_merge: takes result r reported by server ip:port (0:0 for the TCP
 * server): a new hash becomes a new result and r's strings move into it
 * (r is zeroed); a known hash gets the server's counts, replacing what
 * that server said before and adding up with what others said (each
 * knows its own clients; at most SRES_MAX_REPORTERS are counted). The
 * result is marked dirty. NULL when r is dropped: no name, size 0, or
 * SRES_MAX_RESULTS already (r is left to the caller to free). */
sres_result_t *sres_merge(sres_set_t *set, ed2k_search_result_t *r, uint32_t ip, uint16_t port);
/* sres_find: the result with this hash, or NULL. */
sres_result_t *sres_find(const sres_set_t *set, const uint8_t hash[16]);
/* sres_clear: frees every result; the set is empty again. */
void sres_clear(sres_set_t *set);

#endif
