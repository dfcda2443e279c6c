/* clientsmet.h: clients.met, the credit file of eMule and aMule: per peer
 * user hash, the bytes exchanged and its secure-ident public key; a
 * bounded reader of both versions. */
#ifndef MT_ED2K_CLIENTSMET_H
#define MT_ED2K_CLIENTSMET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Versions (first byte): 0x12 records carry a key (119 bytes each), the
 * older 0x11 ones do not (38 bytes). Then a u32 count and the records:
 * <hash 16><u32 uploaded lo><u32 downloaded lo><u32 last seen><u32
 * uploaded hi><u32 downloaded hi><u16 reserved>[<u8 key size><80 bytes>]. */
#define ED2K_CLIENTSMET_VERSION 0x12
#define ED2K_CLIENTSMET_VERSION_29 0x11
#define ED2K_CLIENTSMET_RECORD_LEN 119
#define ED2K_CLIENTSMET_RECORD_LEN_29 38
#define ED2K_CLIENTSMET_MAX_KEY 80
#define ED2K_CLIENTSMET_MAX 1000000

typedef struct ed2k_client_credit {
    uint8_t hash[16];
    uint64_t uploaded;   /* bytes the file's owner uploaded to the peer */
    uint64_t downloaded; /* bytes it downloaded from the peer */
    uint32_t last_seen;  /* Unix time */
    uint8_t key_len;     /* 0: no key (a size over 80 is read as none) */
    uint8_t key[ED2K_CLIENTSMET_MAX_KEY];
} ed2k_client_credit_t;

/* ed2k_clientsmet_parse: reads a clients.met image into a new array *out
 * of *n records (caller frees with free()). The count is never trusted:
 * the records read are the complete ones (at most ED2K_CLIENTSMET_MAX).
 * MT_ERR_UNSUPPORTED for another version, MT_ERR_PROTOCOL for a file
 * shorter than its header. */
int ed2k_clientsmet_parse(const uint8_t *p, size_t len, ed2k_client_credit_t **out, size_t *n,
                          mt_error_t **err);

#endif
