/* servermet.h: server.met, the server-list file of eMule and aMule (§8.1,
 * docs/servers.md): a tolerant, bounded reader and a writer amuled loads. */
#ifndef MT_ED2K_SERVERMET_H
#define MT_ED2K_SERVERMET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/link.h"
#include "util/error.h"

struct evbuffer;

/* File versions: what aMule and eMule write, and the older header aMule
 * still reads (ServerList.cpp). */
#define ED2K_SERVERMET_VERSION 0xE0
#define ED2K_SERVERMET_VERSION_OLD 0x0E

/* Server tags (ST_*, §2.2; aMule's tags/ServerTags.h). Users and files are
 * string-named tags, "users" and "files". */
#define ED2K_ST_SERVERNAME 0x01
#define ED2K_ST_DESCRIPTION 0x0B
#define ED2K_ST_PING 0x0C
#define ED2K_ST_FAIL 0x0D
#define ED2K_ST_PREFERENCE 0x0E
#define ED2K_ST_DYNIP 0x85
#define ED2K_ST_LASTPING_DEPRECATED 0x86 /* ignored on reading */
#define ED2K_ST_MAXUSERS 0x87
#define ED2K_ST_SOFTFILES 0x88
#define ED2K_ST_HARDFILES 0x89
#define ED2K_ST_LASTPING 0x90
#define ED2K_ST_VERSION 0x91
#define ED2K_ST_UDPFLAGS 0x92
#define ED2K_ST_AUXPORTSLIST 0x93
#define ED2K_ST_LOWIDUSERS 0x94
#define ED2K_ST_UDPKEY 0x95
#define ED2K_ST_UDPKEYIP 0x96
#define ED2K_ST_TCPPORTOBFUSCATION 0x97
#define ED2K_ST_UDPPORTOBFUSCATION 0x98

/* ST_PREFERENCE values (aMule's SRV_PR_*: not in sorted order). */
#define ED2K_SERVER_PRIO_NORMAL 0
#define ED2K_SERVER_PRIO_HIGH 1
#define ED2K_SERVER_PRIO_LOW 2

/* One server. Strings are UTF-8 without control characters, or NULL. An
 * array returned by ed2k_servermet_parse owns its strings; one given to
 * ed2k_servermet_write is only read. */
typedef struct ed2k_server_entry {
    uint32_t ip;          /* eD2K byte order as on the wire (§0); 0 when given by name */
    uint16_t port;        /* the server's official TCP port, never 0 */
    char *dynip;          /* ST_DYNIP host name, or NULL */
    char *name;           /* ST_SERVERNAME */
    char *description;    /* ST_DESCRIPTION */
    char *version;        /* ST_VERSION; an integer major<<16|minor reads as "M.m" */
    char *aux_ports;      /* ST_AUXPORTSLIST as written ("4242,4243"), or NULL */
    uint16_t aux_port;    /* the first of aux_ports (the port aMule connects to), 0: none */
    uint32_t users, files;                 /* string tags "users", "files" */
    uint32_t max_users, soft_files, hard_files, lowid_users;
    uint32_t ping_ms, fails, last_ping;    /* ST_PING, ST_FAIL, ST_LASTPING (time_t) */
    uint32_t preference;                   /* ED2K_SERVER_PRIO_*; others read as NORMAL */
    uint32_t udp_flags;                    /* ST_UDPFLAGS (ED2K_SRV_UDPFLG_*) */
    uint32_t tcp_flags;                    /* Muleteer's own tag, see below; 0: unknown */
    bool is_static;                        /* Muleteer's own tag, see below */
    uint16_t obfu_tcp_port, obfu_udp_port; /* ST_TCP/UDPPORTOBFUSCATION, 0: none */
    uint32_t udp_key, udp_key_ip;          /* ST_UDPKEY, ST_UDPKEYIP, 0: none */
} ed2k_server_entry_t;

/* Neither aMule nor eMule stores TCP flags or a static mark in server.met
 * (both keep static servers in staticservers.dat). Muleteer keeps them in
 * string-named tags, which both ignore (Server.cpp's AddTagFromFile only
 * knows "users" and "files" by name). */
#define ED2K_SERVERMET_TAG_TCPFLAGS "mt_tcpflags"
#define ED2K_SERVERMET_TAG_STATIC "mt_static"

typedef enum {
    ED2K_SERVERMET_ERROR = -1,  /* nothing read; *err says why */
    ED2K_SERVERMET_OK = 0,
    ED2K_SERVERMET_PARTIAL = 1, /* the file breaks off after its first entry:
                                   the entries before the break are returned
                                   and *err says where it broke */
} ed2k_servermet_status_t;

/* ed2k_servermet_parse: reads a server.met image. Returns an
 * ed2k_servermet_status_t. *out gets a new array of *n entries (caller
 * frees with ed2k_server_entries_free, after ED2K_SERVERMET_PARTIAL too,
 * and frees *err then); after an error *out is NULL and *n 0.
 *
 * Header: version 0xE0 or 0x0E, else an error; a u32 count, never trusted
 * for allocating. Entries: <ip 4><port u16><tagcount u32><tags>, tags in
 * either form (§2.1). An entry that is cut short, or whose tags cannot be
 * read (an unknown tag type has no length to skip), ends the reading: an
 * error when it is the first entry, else ED2K_SERVERMET_PARTIAL with the
 * entries before it, as aMule keeps the servers it added before the
 * exception (ServerList.cpp). Bytes after the last entry are ignored, as
 * aMule ignores them.
 *
 * Per entry: strings go through ed2k_server_text (BOM dropped, Latin-1
 * fallback, control characters removed) and an empty one counts as absent;
 * the first name, description, dynip, version and aux port list win (aMule
 * writes each twice), integers take the last value (64-bit ones cut to 32
 * bits, ports to 16); tags of an unexpected type and unknown tags are
 * ignored. A dynip that is not a host name (letters, digits, '-', '_',
 * '.') is dropped. An out-of-range preference becomes NORMAL (aMule).
 * Dropped entries: port 0, no address (ip 0 and no dynip), and repeats of
 * an address already read (same dynip, case-insensitive, or same ip when
 * there is no dynip; and same port), the first one kept. ST_LASTPING comes
 * as read (aMule's current tree ignores a time in the future; 2.3.3 does
 * not keep it). Reserved addresses (127/8, ...) are kept: filtering them
 * is the caller's policy (§12 item 11). */
int ed2k_servermet_parse(const uint8_t *p, size_t len, ed2k_server_entry_t **out, size_t *n,
                         mt_error_t **err);

/* ed2k_servermet_write: appends a server.met image (version 0xE0, classic
 * tags, as amuled writes and loads it: docs/servers.md) for n entries.
 * Each string is written once: plain when it is ASCII, else as UTF-8
 * behind a BOM, which eMule needs to read it as UTF-8 and aMule drops.
 * Writes ST_FAIL, ST_PREFERENCE, "users", "files", ST_PING, ST_LASTPING,
 * ST_MAXUSERS, ST_SOFTFILES, ST_HARDFILES, ST_UDPFLAGS and ST_LOWIDUSERS
 * always (as aMule), the others when set. ed2k_servermet_parse reads every entry back
 * equal (ed2k_server_entry_equal), except that an empty string comes back
 * NULL and an aux_port given without aux_ports comes back with aux_ports
 * "<port>". An entry it could not read back (port 0, no address, a dynip
 * that is not a host name, a preference over 2, a string with a control
 * character, invalid UTF-8 or over ED2K_SERVER_TEXT_MAX bytes, an aux_port
 * that is not the first of aux_ports, a repeated address) fails the whole
 * call with MT_ERR_INVALID naming the entry, and nothing is appended. What
 * ed2k_servermet_parse returns is always writable. */
int ed2k_servermet_write(struct evbuffer *out, const ed2k_server_entry_t *s, size_t n,
                         mt_error_t **err);

/* ed2k_server_entry_equal: every field equal (strings by content). */
bool ed2k_server_entry_equal(const ed2k_server_entry_t *a, const ed2k_server_entry_t *b);
/* ed2k_server_entry_clear: frees one entry's strings and zeroes it. */
void ed2k_server_entry_clear(ed2k_server_entry_t *e);
/* ed2k_server_entries_free: clears n entries and frees the array (NULL is
 * fine). */
void ed2k_server_entries_free(ed2k_server_entry_t *s, size_t n);

/* ed2k_server_entry_from_link: an entry for an ED2K_LINK_SERVER link: ip
 * for a dotted IPv4 host, dynip for a host name, and the port; the rest
 * zero. Clear it with ed2k_server_entry_clear. MT_ERR_INVALID for any other
 * kind of link. */
int ed2k_server_entry_from_link(const ed2k_link_t *l, ed2k_server_entry_t *out, mt_error_t **err);

/* The longest string kept: a string tag's u16 length, less a BOM. */
#define ED2K_SERVER_TEXT_MAX 65532

/* ed2k_server_text: server-supplied text (server.met, OP_SERVER_DESC_RES)
 * as Muleteer keeps it: ed2k_text_to_utf8, control characters (C0, DEL,
 * C1) and stray BOMs (U+FEFF) dropped, cut to ED2K_SERVER_TEXT_MAX bytes at a character boundary.
 * A new string, or NULL when nothing is left. */
char *ed2k_server_text(const void *s, size_t len);
/* ed2k_server_version_text: an integer ST_VERSION (major << 16 | minor) as
 * aMule shows it, "M.m" (eMule writes "M.mm"). Caller frees. */
char *ed2k_server_version_text(uint32_t v);

#endif
