/* nodesdat.h: nodes.dat, the Kad contact file of eMule and aMule (§8.2):
 * a bounded reader of versions 1, 2 and 3 (bootstrap), a version 2 writer. */
#ifndef MT_ED2K_NODESDAT_H
#define MT_ED2K_NODESDAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadpkt.h"
#include "util/error.h"

struct evbuffer;

/* The most entries read from one file; the rest are ignored. */
#define KAD_NODESDAT_MAX 5000
#define KAD_NODESDAT_V2_ENTRY_LEN 34
#define KAD_NODESDAT_V1_ENTRY_LEN 25

/* One contact of nodes.dat. The version 2 fields are 0 / false when read
 * from a version 1 or 3 file. */
typedef struct kad_node {
    kad_contact_t c;
    uint32_t udp_key, udp_key_ip;
    bool verified;
} kad_node_t;

/* kad_nodesdat_parse: reads a nodes.dat image into a new array *out of *n
 * entries (caller frees with free()); *bootstrap is set for a version 3
 * "bootstrap" file, whose contacts aMule only uses to bootstrap.
 * Headers: <u32 0><u32 version> with version 1 or 2, or <u32 0><u32 3>
 * <u32 1>; then <u32 count>. The count is never trusted: the entries read
 * are the complete ones, at most KAD_NODESDAT_MAX. Entries of Kad 1
 * contacts (version < 2) and with ip 0 or port 0 are skipped, as aMule
 * skips them. MT_ERR_UNSUPPORTED for a version 0 file (first u32 not 0:
 * aMule ignores those) or an unknown version; MT_ERR_PROTOCOL for a file
 * shorter than its header. */
int kad_nodesdat_parse(const uint8_t *p, size_t len, kad_node_t **out, size_t *n,
                       bool *bootstrap, mt_error_t **err);

/* kad_nodesdat_write: appends a version 2 image of n entries, as aMule
 * writes it. */
void kad_nodesdat_write(struct evbuffer *out, const kad_node_t *nodes, size_t n);

#endif
