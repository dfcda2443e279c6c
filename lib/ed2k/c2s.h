/* c2s.h: codecs for the eD2K client-to-server TCP messages a client sends
 * and reads (ed2k-protocol.md §3): login, ID change, server messages and
 * status, file offers, source requests and callbacks. */
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

#endif
