/* link.h: ed2k:// links (§7): strict parsing of file, server, server-list
 * and nodes-list links with precise errors, and formatting the way eMule
 * writes them. */
#ifndef MT_ED2K_LINK_H
#define MT_ED2K_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/hash.h"
#include "util/error.h"

typedef enum {
    ED2K_LINK_FILE = 1,   /* ed2k://|file|name|size|hash|...|/ */
    ED2K_LINK_SERVER,     /* ed2k://|server|host|port|/ */
    ED2K_LINK_SERVERLIST, /* ed2k://|serverlist|url|/ */
    ED2K_LINK_NODESLIST,  /* ed2k://|nodeslist|url|/ (a nodes.dat for Kad) */
} ed2k_link_type_t;

/* A source from the |sources,host:port[:cryptopts[:userhash]],...| part. */
typedef struct ed2k_link_source {
    char *host;       /* dotted IPv4 or host name */
    uint16_t port;    /* 1..65535 */
    uint8_t cryptopts; /* 0 when not given; bit 0x80: userhash follows */
    bool has_userhash;
    uint8_t userhash[ED2K_HASH_LEN];
} ed2k_link_source_t;

/* A parsed link. Every pointer in it is owned by the link and released by
 * ed2k_link_free(). Fields not used by the link's type are zero/NULL.
 * To format a link, a caller may also fill a struct of its own (owning its
 * pointers) and pass it to ed2k_link_format(). */
typedef struct ed2k_link {
    ed2k_link_type_t type;
    /* ED2K_LINK_FILE */
    char *name;      /* UTF-8, sanitised (see ed2k_link_parse) */
    uint64_t size;   /* 1 .. ED2K_MAX_FILE_SIZE */
    uint8_t hash[ED2K_HASH_LEN];
    uint8_t (*part_hashes)[ED2K_HASH_LEN]; /* p=, verified; NULL if absent */
    size_t n_part_hashes;
    bool has_aich;   /* h= */
    uint8_t aich[ED2K_AICH_LEN];
    char **http_sources; /* s= URLs as written */
    size_t n_http_sources;
    ed2k_link_source_t *sources;
    size_t n_sources;
    /* ED2K_LINK_SERVER: host is a dotted IPv4 or host name */
    char *host;
    uint16_t port;
    /* ED2K_LINK_SERVERLIST, ED2K_LINK_NODESLIST: percent-decoded http(s) URL */
    char *url;
} ed2k_link_t;

/* ed2k_link_parse: parses text into a new link (*out; free with
 * ed2k_link_free). Returns 0, or -1 with MT_ERR_INVALID and a message naming
 * the fault ("size is not a number: \"12a\"", "missing trailing |/", ...).
 *
 * Tolerated, as aMule tolerates them: whitespace around the link and around
 * each field, any case in "ed2k://" and the link type, a final "|" without
 * the "/" (aMule's AddED2KLink appends it), unknown fields after the hash,
 * empty entries in a source list.
 *
 * Names are percent-decoded strictly (a '%' not followed by two hex digits
 * is an error); bytes that are not valid UTF-8 are read as Latin-1 and a
 * leading BOM is dropped (aMule's UnescapeHTML). Then, as aMule does, '/'
 * becomes '_' (ED2KLink.cpp) -- and so does '\\' -- and control characters
 * (0x00-0x1F, 0x7F) are dropped (CPath::Cleanup). An empty name, "." and
 * ".." are errors.
 *
 * p= must list ed2k_hash_count(size) part hashes whose MD4 is the file hash;
 * for a file below PARTSIZE, a single p= hash equal to the file hash is
 * accepted (and not stored). h= must be 32 base32 characters. */
int ed2k_link_parse(const char *text, ed2k_link_t **out, mt_error_t **err);
void ed2k_link_free(ed2k_link_t *l);

/* ed2k_link_format: the link as eMule writes it (a new string, caller
 * frees): names percent-encode '%', space, '|', control characters and
 * every byte >= 0x7F as upper-case %XX; hashes in lower case; p= and h= when
 * known, then s=, then "/" and the sources as "|sources,h:p,...|/". Fields
 * not valid for the link's type are ignored. */
char *ed2k_link_format(const ed2k_link_t *l);

/* ed2k_link_equal: same type and same meaning (all fields compared). */
bool ed2k_link_equal(const ed2k_link_t *a, const ed2k_link_t *b);

/* ed2k_link_from_hash: a file link for a hashed file (copies name, which
 * should be a plain file name; part hashes and AICH root included). */
ed2k_link_t *ed2k_link_from_hash(const char *name, const ed2k_hash_result_t *r);
/* ed2k_link_add_source: appends a source (host copied). */
void ed2k_link_add_source(ed2k_link_t *l, const char *host, uint16_t port);

/* A server or server-list link on its own, for callers that take no file
 * link (adding servers): the same parser, a smaller result. */
typedef enum {
    ED2K_SERVER_LINK_SERVER = 1, /* ed2k://|server|host|port|/ */
    ED2K_SERVER_LINK_LIST,       /* ed2k://|serverlist|url|/ */
} ed2k_server_link_kind_t;

typedef struct ed2k_server_link {
    ed2k_server_link_kind_t kind;
    char *host;    /* SERVER: dotted IPv4 or host name (owned) */
    uint16_t port; /* SERVER: 1..65535 */
    char *url;     /* LIST: percent-decoded http:// or https:// URL (owned) */
} ed2k_server_link_t;

/* ed2k_server_link_parse: ed2k_link_parse's rules and messages, and
 * MT_ERR_INVALID "a file link is not a server link" for a file link. Fills
 * *out (clear it with ed2k_server_link_clear); on error *out is zeroed. */
int ed2k_server_link_parse(const char *text, ed2k_server_link_t *out, mt_error_t **err);
void ed2k_server_link_clear(ed2k_server_link_t *l);

#endif
