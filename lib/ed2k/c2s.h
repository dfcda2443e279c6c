/* c2s.h: codecs for the eD2K client-to-server messages a client sends and
 * reads: over TCP (ed2k-protocol.md §3) login, ID change, server messages
 * and status, file offers, source requests and callbacks; over UDP (§4)
 * status and description requests, global source requests and searches. */
#ifndef MT_ED2K_C2S_H
#define MT_ED2K_C2S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct evbuffer;

/* Client <-> server TCP opcodes (protocol 0xE3). */
#define ED2K_SOP_LOGINREQUEST 0x01
#define ED2K_SOP_REJECT 0x05
#define ED2K_SOP_GETSERVERLIST 0x14
#define ED2K_SOP_OFFERFILES 0x15
#define ED2K_SOP_SEARCHREQUEST 0x16
#define ED2K_SOP_GETSOURCES 0x19
#define ED2K_SOP_CALLBACKREQUEST 0x1C
#define ED2K_SOP_QUERY_MORE_RESULT 0x21
#define ED2K_SOP_GETSOURCES_OBFU 0x23
#define ED2K_SOP_SERVERLIST 0x32
#define ED2K_SOP_SEARCHRESULT 0x33
#define ED2K_SOP_SERVERSTATUS 0x34
#define ED2K_SOP_CALLBACKREQUESTED 0x35
#define ED2K_SOP_CALLBACK_FAIL 0x36
#define ED2K_SOP_SERVERMESSAGE 0x38
#define ED2K_SOP_IDCHANGE 0x40
#define ED2K_SOP_SERVERIDENT 0x41
#define ED2K_SOP_FOUNDSOURCES 0x42
#define ED2K_SOP_FOUNDSOURCES_OBFU 0x44

/* Client <-> server UDP opcodes (protocol 0xE3, §4). */
#define ED2K_SOP_GLOBSEARCHREQ3 0x90
#define ED2K_SOP_GLOBSEARCHREQ2 0x92
#define ED2K_SOP_GLOBGETSOURCES2 0x94
#define ED2K_SOP_GLOBSERVSTATREQ 0x96
#define ED2K_SOP_GLOBSERVSTATRES 0x97
#define ED2K_SOP_GLOBSEARCHREQ 0x98
#define ED2K_SOP_GLOBSEARCHRES 0x99
#define ED2K_SOP_GLOBGETSOURCES 0x9A
#define ED2K_SOP_GLOBFOUNDSOURCES 0x9B
#define ED2K_SOP_GLOBCALLBACKREQ 0x9C /* neither aMule nor eMule sends it */
#define ED2K_SOP_SERVER_LIST_REQ 0xA0
#define ED2K_SOP_SERVER_LIST_RES 0xA1
#define ED2K_SOP_SERVER_DESC_REQ 0xA2
#define ED2K_SOP_SERVER_DESC_RES 0xA3
#define ED2K_SOP_SERVER_LIST_REQ2 0xA4

/* A server's UDP port is its TCP port + 4 (§4). */
#define ED2K_SERVER_UDP_PORT_OFFSET 4

/* Server UDP flags, OP_GLOBSERVSTATRES and ST_UDPFLAGS (§2.4). */
#define ED2K_SRV_UDPFLG_EXT_GETSOURCES 0x0001  /* up to 31 hashes per request */
#define ED2K_SRV_UDPFLG_EXT_GETFILES 0x0002    /* OP_GLOBSEARCHREQ2 */
#define ED2K_SRV_UDPFLG_NEWTAGS 0x0008
#define ED2K_SRV_UDPFLG_UNICODE 0x0010
#define ED2K_SRV_UDPFLG_EXT_GETSOURCES2 0x0020 /* OP_GLOBGETSOURCES2: hash + size */
#define ED2K_SRV_UDPFLG_LARGEFILES 0x0100
#define ED2K_SRV_UDPFLG_UDPOBFUSCATION 0x0200
#define ED2K_SRV_UDPFLG_TCPOBFUSCATION 0x0400

/* CT_SERVER_UDPSEARCH_FLAGS, the one tag of OP_GLOBSEARCHREQ3, and its
 * value: "send new tags and large files" (§2.2). */
#define ED2K_CT_SERVER_UDPSEARCH_FLAGS 0x0E
#define ED2K_SRVCAP_UDP_NEWTAGS_LARGEFILES 0x01

/* Most files in one OP_GLOBGETSOURCES(2) (aMule's MAX_FILES_PER_UDP_PACKET:
 * 2 + 16 * 31 = 498 bytes). */
#define ED2K_GLOBGETSOURCES_MAX 31

/* Login capabilities, CT_SERVER_FLAGS (§2.4). */
#define ED2K_SRVCAP_ZLIB 0x0001
#define ED2K_SRVCAP_IP_IN_LOGIN 0x0002
#define ED2K_SRVCAP_AUXPORT 0x0004
#define ED2K_SRVCAP_NEWTAGS 0x0008
#define ED2K_SRVCAP_UNICODE 0x0010
#define ED2K_SRVCAP_LARGEFILES 0x0100
#define ED2K_SRVCAP_SUPPORTCRYPT 0x0200
#define ED2K_SRVCAP_REQUESTCRYPT 0x0400
#define ED2K_SRVCAP_REQUIRECRYPT 0x0800

/* Server TCP flags, the second word of OP_IDCHANGE (§2.4). */
#define ED2K_SRV_TCPFLG_COMPRESSION 0x0001
#define ED2K_SRV_TCPFLG_NEWTAGS 0x0008
#define ED2K_SRV_TCPFLG_UNICODE 0x0010
#define ED2K_SRV_TCPFLG_RELATEDSEARCH 0x0040
#define ED2K_SRV_TCPFLG_TYPETAGINTEGER 0x0080
#define ED2K_SRV_TCPFLG_LARGEFILES 0x0100
#define ED2K_SRV_TCPFLG_TCPOBFUSCATION 0x0400

/* File tags (§2.2) used in offers and search results. */
#define ED2K_FT_FILENAME 0x01
#define ED2K_FT_FILESIZE 0x02
#define ED2K_FT_FILETYPE 0x03
#define ED2K_FT_FILEFORMAT 0x04
#define ED2K_FT_SOURCES 0x15
#define ED2K_FT_COMPLETE_SOURCES 0x30
#define ED2K_FT_FILESIZE_HI 0x3A

/* OP_OFFERFILES id/port markers for servers with compression (§3.4). */
#define ED2K_OFFER_COMPLETE_ID 0xFBFBFBFBu
#define ED2K_OFFER_COMPLETE_PORT 0xFBFB
#define ED2K_OFFER_PARTIAL_ID 0xFCFCFCFCu
#define ED2K_OFFER_PARTIAL_PORT 0xFCFC

/* ed2k_login_encode: OP_LOGINREQUEST with CT_NAME, CT_VERSION (0x3C),
 * CT_SERVER_FLAGS and CT_EMULE_VERSION, as aMule sends them (§3.1). */
int ed2k_login_encode(struct evbuffer *out, const uint8_t user_hash[16], uint32_t client_id,
                      uint16_t tcp_port, const char *name, uint32_t cap_flags,
                      uint32_t emule_version, mt_error_t **err);

/* OP_IDCHANGE: <id>[<tcp flags>[<aux port>[<reported ip><obfuscation port>]]]. */
typedef struct ed2k_idchange {
    uint32_t id;            /* 0: login refused */
    bool has_flags;
    uint32_t flags;
    bool has_aux_port;
    uint32_t aux_port;
    bool has_reported_ip;
    uint32_t reported_ip;   /* our IP as the server sees it, eD2K form */
    uint32_t obfuscation_port;
} ed2k_idchange_t;

int ed2k_idchange_decode(const uint8_t *p, size_t len, ed2k_idchange_t *out, mt_error_t **err);
void ed2k_idchange_encode(struct evbuffer *out, const ed2k_idchange_t *id);

/* OP_SERVERMESSAGE: <len u16><text> (text borrowed, raw bytes). */
int ed2k_servermessage_decode(const uint8_t *p, size_t len, const uint8_t **text, size_t *text_len,
                              mt_error_t **err);
/* ed2k_servermessage_dynip: the host name a server with a dynamic IP
 * announces in a message line, "... [emDynIP: host.example.org] ...": the
 * text between the marker and the next ']', trimmed, 1-50 characters of
 * letters, digits, '-', '_' and '.', and not an IPv4 address (as eMule
 * checks it). 0 with the name in out (size >= 51), or -1 when the line has
 * none or a bad one. */
int ed2k_servermessage_dynip(const char *line, char *out, size_t size);

/* OP_SERVERSTATUS: <users u32><files u32>. */
int ed2k_serverstatus_decode(const uint8_t *p, size_t len, uint32_t *users, uint32_t *files,
                             mt_error_t **err);

/* OP_SERVERIDENT: <hash 16><ip 4><port u16><tags>; name and description
 * from ST_SERVERNAME (0x01) and ST_DESCRIPTION (0x0B), owned (or NULL). */
typedef struct ed2k_serverident {
    uint8_t hash[16];
    uint32_t ip;
    uint16_t port;
    char *name;
    char *description;
} ed2k_serverident_t;

int ed2k_serverident_decode(const uint8_t *p, size_t len, ed2k_serverident_t *out,
                            mt_error_t **err);
void ed2k_serverident_clear(ed2k_serverident_t *si);

/* OP_SERVERLIST: <count u8>(<ip 4><port u16>)*. ips/ports are owned arrays. */
typedef struct ed2k_serverlist {
    size_t count;
    uint32_t *ips;
    uint16_t *ports;
} ed2k_serverlist_t;

int ed2k_serverlist_decode(const uint8_t *p, size_t len, ed2k_serverlist_t *out, mt_error_t **err);
void ed2k_serverlist_clear(ed2k_serverlist_t *sl);

/* One file in OP_OFFERFILES. */
typedef struct ed2k_offer {
    uint8_t hash[16];
    const char *name;   /* UTF-8 */
    uint64_t size;
    bool complete;      /* a complete file, or a part file */
    uint8_t type;       /* FT_FILETYPE integer (1 audio, 2 video, 3 image, 4 program,
                           5 document, 6 archive, 7 CD image), 0 unknown */
} ed2k_offer_t;

/* ed2k_offerfiles_payload: the payload of OP_OFFERFILES for n files, as the
 * server's flags want it (§3.4): complete/partial markers with compression,
 * else our id and port (HighID) or 0/0; compact tags with new tags; an
 * integer file type with 0x80 (else "Audio", "Video", "Image", "Pro",
 * "Doc"); files over 4 GiB only to servers with large files (others are
 * skipped). *written gets how many were written. The caller frames it and
 * packs it (ed2k_packet_pack) when the server has compression. */
int ed2k_offerfiles_payload(struct evbuffer *payload, const ed2k_offer_t *files, size_t n,
                            uint32_t server_flags, uint32_t our_id, uint16_t our_port,
                            size_t *written, mt_error_t **err);

/* ed2k_getsources_encode: OP_GETSOURCES for one file: <hash><size u32>, or
 * <hash><u32 0><size u64> over 4 GiB (§3.6). obfu picks
 * OP_GETSOURCES_OBFU. */
void ed2k_getsources_encode(struct evbuffer *out, const uint8_t hash[16], uint64_t size, bool obfu);

/* OP_FOUNDSOURCES: <hash><count u8>(<id u32><port u16>)*;
 * OP_FOUNDSOURCES_OBFU adds <cryptopts u8>[<userhash 16> if bit 0x80]. */
typedef struct ed2k_found_source {
    uint32_t id;
    uint16_t port;
    uint8_t cryptopts;
    bool has_hash;
    uint8_t user_hash[16];
} ed2k_found_source_t;

typedef struct ed2k_foundsources {
    uint8_t hash[16];
    size_t count;
    ed2k_found_source_t *sources; /* owned */
} ed2k_foundsources_t;

int ed2k_foundsources_decode(const uint8_t *p, size_t len, bool obfu, ed2k_foundsources_t *out,
                             mt_error_t **err);
void ed2k_foundsources_clear(ed2k_foundsources_t *fs);

/* OP_CALLBACKREQUEST: <lowid u32>. */
void ed2k_callbackrequest_encode(struct evbuffer *out, uint32_t lowid);
/* OP_CALLBACKREQUESTED: <ip 4><port u16>[<cryptopts u8><userhash 16>]. */
typedef struct ed2k_callbackrequested {
    uint32_t ip;
    uint16_t port;
    bool has_crypt;
    uint8_t cryptopts;
    uint8_t user_hash[16];
} ed2k_callbackrequested_t;

int ed2k_callbackrequested_decode(const uint8_t *p, size_t len, ed2k_callbackrequested_t *out,
                                  mt_error_t **err);

/* ed2k_filetype_for_name: the FT_FILETYPE integer for a file name's
 * extension (0 when unknown). */
uint8_t ed2k_filetype_for_name(const char *name);

/* Client <-> server UDP (§4). Encoders append one whole datagram,
 * e3 <opcode> <payload> (§1.2), to out; send out's contents as it is.
 * Decoders take the payload after e3 <opcode> (ed2k_udp_decode's). A
 * challenge that does not match the one sent is the caller's business: the
 * decoders return it and accept any. Bytes after what a decoder knows are
 * ignored, as aMule ignores them. */

/* ed2k_globservstat_challenge: aMule's OP_GLOBSERVSTATREQ challenge,
 * 0x55AA0000 + a random u16 the caller draws (ServerList.cpp). */
uint32_t ed2k_globservstat_challenge(uint16_t rnd);
/* ed2k_globservstatreq_encode: OP_GLOBSERVSTATREQ <challenge u32>. */
void ed2k_globservstatreq_encode(struct evbuffer *out, uint32_t challenge);

/* OP_GLOBSERVSTATRES: <challenge><users><files>, then optional fields that
 * come in groups (aMule reads each group from a minimum payload length:
 * 16, 24, 28, 32 and 40 bytes). */
typedef struct ed2k_servstat {
    uint32_t challenge;
    uint32_t users, files;
    bool has_max_users;      /* >= 16 bytes */
    uint32_t max_users;
    bool has_limits;         /* >= 24 bytes */
    uint32_t soft_files, hard_files;
    bool has_udp_flags;      /* >= 28 bytes */
    uint32_t udp_flags;      /* ED2K_SRV_UDPFLG_* */
    bool has_lowid_users;    /* >= 32 bytes */
    uint32_t lowid_users;
    bool has_obfuscation;    /* >= 40 bytes */
    uint16_t obfu_udp_port, obfu_tcp_port; /* in this order on the wire */
    uint32_t udp_key;
} ed2k_servstat_t;

/* ed2k_globservstatres_decode: MT_ERR_PROTOCOL under 12 bytes. */
int ed2k_globservstatres_decode(const uint8_t *p, size_t len, ed2k_servstat_t *out,
                                mt_error_t **err);
/* ed2k_globservstatres_encode: the answer a server gives (for test
 * servers): the fields up to the last group whose has_* is set. */
void ed2k_globservstatres_encode(struct evbuffer *out, const ed2k_servstat_t *st);

/* ed2k_serverdesc_challenge: an OP_SERVER_DESC_REQ challenge, a random u16
 * in the high half and 0xF0FF in the low one. On the wire the answer then
 * starts with ff f0, a string length no old-form answer can have, which is
 * how the two forms of OP_SERVER_DESC_RES are told apart (aMule's
 * INV_SERV_DESC_LEN). Use no other challenge. */
uint32_t ed2k_serverdesc_challenge(uint16_t rnd);
/* ed2k_serverdescreq_encode: OP_SERVER_DESC_REQ <challenge u32>. */
void ed2k_serverdescreq_encode(struct evbuffer *out, uint32_t challenge);

/* OP_SERVER_DESC_RES. New form (the payload has 8 bytes or more and starts
 * with ff f0): <challenge u32><tagcount u32><tags> with ST_SERVERNAME,
 * ST_DESCRIPTION, ST_DYNIP, ST_VERSION (string, or integer read as "M.m")
 * and ST_AUXPORTSLIST. Old form: <name string><description string> (eMule's
 * order; aMule 2.3.3 reads the two the other way round). Strings are owned,
 * cleaned by ed2k_server_text, NULL when absent or empty. */
typedef struct ed2k_serverdesc {
    bool has_challenge;  /* the new form */
    uint32_t challenge;
    char *name, *description, *dynip, *version, *aux_ports;
} ed2k_serverdesc_t;

/* ed2k_serverdescres_decode: MT_ERR_PROTOCOL when a string or a tag is cut
 * short or a tag has an unknown type. */
int ed2k_serverdescres_decode(const uint8_t *p, size_t len, ed2k_serverdesc_t *out,
                              mt_error_t **err);
void ed2k_serverdesc_clear(ed2k_serverdesc_t *d);
/* ed2k_serverdescres_encode: the new form with the non-NULL strings
 * (version as a string), for test servers. Fails (nothing appended) when
 * a string is over 65535 bytes. */
int ed2k_serverdescres_encode(struct evbuffer *out, const ed2k_serverdesc_t *d,
                              mt_error_t **err);

/* ed2k_globgetsources_encode: one source request for the first of n files
 * (hashes[i], sizes[i]) that fit, as aMule's DownloadQueue.cpp builds it:
 * OP_GLOBGETSOURCES2 (<hash><size u32>, or <hash><u32 0><size u64> over
 * 4 GiB) when the server has EXT_GETSOURCES2, else OP_GLOBGETSOURCES
 * (<hash> only); up to ED2K_GLOBGETSOURCES_MAX files with EXT_GETSOURCES,
 * else 1. Files over 4 GiB are skipped unless the server has LARGEFILES.
 * Returns how many files went into the datagram (0: nothing appended) and
 * sets *used (when not NULL) to how many of the n were dealt with, the
 * skipped ones included: the caller's next batch starts at hashes + *used. */
size_t ed2k_globgetsources_encode(struct evbuffer *out, const uint8_t (*hashes)[16],
                                  const uint64_t *sizes, size_t n, uint32_t udp_flags,
                                  size_t *used);

/* ed2k_globfoundsources_decode: OP_GLOBFOUNDSOURCES, one or more blocks
 * <hash 16><count u8>(<id u32><port u16>)*, every block after the first
 * behind e3 9b. *out gets a new array of *n blocks (free with
 * ed2k_globfoundsources_free); sources have no crypt options. As aMule,
 * reading stops at the first 3+ bytes after a block that do not start with
 * e3 9b, and 1 or 2 bytes left are ignored. MT_ERR_PROTOCOL (nothing
 * returned) when any block is cut short. */
int ed2k_globfoundsources_decode(const uint8_t *p, size_t len, ed2k_foundsources_t **out,
                                 size_t *n, mt_error_t **err);
void ed2k_globfoundsources_free(ed2k_foundsources_t *fs, size_t n);

/* ed2k_globsearchreq_encode: a global (UDP) search for a search tree built
 * by lib/ed2k/search (its bytes, §3.5), in the form aMule's SearchList.cpp
 * picks: OP_GLOBSEARCHREQ3 (<tagcount u32 1><89 0e 01><tree>) when the
 * server has both EXT_GETFILES and LARGEFILES; else OP_GLOBSEARCHREQ2 with
 * EXT_GETFILES; else OP_GLOBSEARCHREQ. large_files says the tree holds
 * 64-bit terms: a server without LARGEFILES must not get it. Returns the
 * opcode used, or 0 (nothing appended) when the server cannot take the
 * search or the tree is empty. */
uint8_t ed2k_globsearchreq_encode(struct evbuffer *out, const uint8_t *tree, size_t tree_len,
                                  uint32_t udp_flags, bool large_files);

#endif
