/* c2c.h: codecs for eD2K client-to-client messages (TCP, §5, and the client
 * UDP reasks, §5.5), peer capabilities and the compressed-block stream. */
#ifndef MT_ED2K_C2C_H
#define MT_ED2K_C2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/hash.h"
#include "ed2k/opcodes.h"
#include "ed2k/tag.h"
#include "util/error.h"

struct evbuffer;

/*
 * Conventions (every function below follows them unless it says otherwise):
 *
 * Names: ed2k_<message>_decode / ed2k_<message>_encode per message (the
 * message is the opcode's name without OP_), ed2k_caps_* for capability
 * bits, ed2k_partstatus_* for part bitmaps, ed2k_inflater_* for the
 * receiving side of OP_COMPRESSEDPART, ed2k_c2c_* for the rest.
 *
 * Decoders take the payload (after framing and unpacking; the caller knows
 * the opcode) and fill *out. They return 0, or -1 with MT_ERR_PROTOCOL and a
 * message naming the packet and the field ("OP_REQUESTPARTS: payload is 30
 * bytes, expected 40"). They never read outside p[0..len). *out is zeroed
 * first, so the matching _clear() is always safe, and nothing needs
 * freeing after an error. Pointers in a decoded struct marked "borrowed"
 * point into p and live as long as it does.
 *
 * Sizes follow aMule: a size aMule refuses is an error here; bytes aMule
 * leaves unread after a complete message are ignored here too (the decoder
 * says so). An error does not always mean "disconnect": aMule silently
 * ignores some malformed packets (noted per decoder).
 *
 * TCP encoders append one complete framed packet (6-byte header, opcode,
 * payload; never packed) to out; UDP encoders append [0xC5][opcode]
 * [payload]. Encoders that can fail return 0, or -1 with MT_ERR_INVALID
 * (or MT_ERR_TOO_LARGE) and append nothing.
 *
 * Sizes and offsets are uint64_t throughout.
 */

/* An AICH root on the wire: hash.h's SHA-1 length. */
#define ED2K_AICH_HASH_LEN ED2K_AICH_LEN
/* Data bytes per OP_SENDINGPART / OP_COMPRESSEDPART fragment in eMule and
 * aMule 2.3.3 (§5.6). */
#define ED2K_FRAGMENT_SIZE 10240U

/* ---- Client ids (§0) ---- */

/* ed2k_c2c_is_lowid: an id below 16777216 is a server-assigned LowID. */
bool ed2k_c2c_is_lowid(uint32_t id);
/* ed2k_c2c_id_to_hybrid / _from_hybrid: the hybrid form used by source
 * exchange v3+ (and aMule inside): HighIDs byte-swapped, LowIDs unchanged. A
 * HighID whose IP ends in .0 looks like a LowID in the ed2k form and so is
 * not swapped by to_hybrid: that ambiguity is why hybrid ids exist. */
uint32_t ed2k_c2c_id_to_hybrid(uint32_t ed2k_id);
uint32_t ed2k_c2c_id_from_hybrid(uint32_t hybrid_id);

/* ---- Capabilities (§2.3) ---- */

typedef struct ed2k_caps {
    /* CT_EMULE_MISCOPTIONS1 */
    uint8_t aich_ver;       /* bits 31..29 */
    bool unicode;           /* 28 */
    uint8_t udp_ver;        /* 27..24 */
    uint8_t data_comp_ver;  /* 23..20 */
    uint8_t secident_ver;   /* 19..16 */
    uint8_t sx1_ver;        /* 15..12 */
    uint8_t ext_req_ver;    /* 11..8 */
    uint8_t comments_ver;   /* 7..4 */
    bool peercache;         /* 3 */
    bool no_view_shared;    /* 2 (a negative flag) */
    bool multipacket;       /* 1 */
    bool preview;           /* 0 */
    /* CT_EMULE_MISCOPTIONS2 */
    bool file_identifiers;  /* 13: eMule 0.50 OP_*2 packets; never set it */
    bool direct_udp_callback; /* 12 */
    bool captcha;           /* 11 */
    bool sx2;               /* 10 */
    bool crypt_required;    /* 9 */
    bool crypt_requested;   /* 8 */
    bool crypt_supported;   /* 7 */
    bool ext_multipacket;   /* 5 */
    bool large_files;       /* 4 */
    uint8_t kad_ver;        /* 3..0 */
} ed2k_caps_t;

/* ed2k_caps_from_misc1 / _misc2: set the fields of one word (the others are
 * left alone). from_misc2 applies the receiver rules: "requested" is
 * cleared unless "supported", "required" unless "requested". */
void ed2k_caps_from_misc1(ed2k_caps_t *c, uint32_t misc1);
void ed2k_caps_from_misc2(ed2k_caps_t *c, uint32_t misc2);
/* ed2k_caps_to_misc1 / _misc2: the words to send; each field is masked to
 * its width. aMule 2.3.3's own values are 0x34133216 and 0x000005B8. */
uint32_t ed2k_caps_to_misc1(const ed2k_caps_t *c);
uint32_t ed2k_caps_to_misc2(const ed2k_caps_t *c);

/* ---- Part status bitmaps (§5.3) ---- */

/* A part status as sent: count parts (0 means "complete file" in
 * OP_FILESTATUS and "nothing said" in a file request), part i in bit i % 8 of
 * bitmap[i / 8]; bitmap has ed2k_partstatus_bytes(count) bytes (borrowed
 * when decoded; NULL when count is 0). Padding bits are kept as received. */
typedef struct ed2k_partstatus {
    uint16_t count;
    const uint8_t *bitmap;
} ed2k_partstatus_t;

size_t ed2k_partstatus_bytes(size_t count);
/* ed2k_partstatus_get: part i's bit; false past the count. */
bool ed2k_partstatus_get(const ed2k_partstatus_t *ps, size_t i);
/* ed2k_partstatus_pack: count flags (non-zero = has the part) into a bitmap
 * of ed2k_partstatus_bytes(count) bytes, padding bits clear. unpack does the
 * reverse into count bytes of 0/1. */
void ed2k_partstatus_pack(const uint8_t *parts, size_t count, uint8_t *bitmap);
void ed2k_partstatus_unpack(const uint8_t *bitmap, size_t count, uint8_t *parts);
/* ed2k_partstatus_check: the count must be 0 or the ED2K part count of a
 * file of size bytes (ed2k_part_count, §6.2); what names the packet in the
 * message. Decoders do this themselves only where the size is in the packet
 * (OP_MULTIPACKET_EXT); elsewhere the caller checks once it has found the
 * file. */
int ed2k_partstatus_check(const ed2k_partstatus_t *ps, uint64_t size, const char *what,
                          mt_error_t **err);

/* ---- OP_HELLO (0xE3 0x01) / OP_HELLOANSWER (0xE3 0x4C) (§5.1) ---- */

typedef struct ed2k_hello {
    uint8_t user_hash[16];
    uint32_t client_id;
    uint16_t tcp_port;          /* the port field, replaced by CT_PORT if sent */
    uint32_t server_ip;         /* 0 when not connected */
    uint16_t server_port;
    ed2k_taglist_t *tags;       /* owned: all tags as received */
    char *name;                 /* owned: CT_NAME as UTF-8 (text.h), or NULL */
    size_t name_len;
    bool has_version;           /* CT_VERSION */
    uint32_t version;
    bool has_emule_version;     /* CT_EMULE_VERSION: marks a "mule hello" */
    uint32_t emule_version;     /* raw value, and its parts: */
    uint8_t compat_client;      /* bits 31..24 (ED2K_SO_*) */
    uint8_t ver_major;          /* 23..17 */
    uint8_t ver_minor;          /* 16..10 */
    uint8_t ver_update;         /* 9..7 */
    bool has_udp_ports;         /* CT_EMULE_UDPPORTS */
    uint16_t udp_port;
    uint16_t kad_port;
    bool has_misc1;
    uint32_t misc1;
    bool has_misc2;
    uint32_t misc2;
    bool has_compat_options;    /* CT_EMULECOMPAT_OPTIONS */
    uint32_t compat_options;
    bool has_buddy_ip;
    uint32_t buddy_ip;
    bool has_buddy_port;
    uint16_t buddy_port;
    char *mod_version;          /* owned: ET_MOD_VERSION, or NULL; an integer
                                 * becomes "ModID=<n>" as in aMule */
    bool mldonkey;              /* 4 trailing bytes "MLDK" (aMule's 'KDLM') */
    bool hybrid;                /* 4 other trailing bytes (eDonkeyHybrid) */
} ed2k_hello_t;

/* ed2k_hello_decode (OP_HELLO, with the hash-length byte, which must be 16)
 * and ed2k_helloanswer_decode (without it). Tags may use either form; a
 * known tag with the wrong kind of value is an error (aMule throws); later
 * duplicates win. Bytes after the server address are ignored except that
 * exactly 4 set mldonkey or hybrid, as aMule does. Free with
 * ed2k_hello_clear(). */
int ed2k_hello_decode(const uint8_t *p, size_t len, ed2k_hello_t *out, mt_error_t **err);
int ed2k_helloanswer_decode(const uint8_t *p, size_t len, ed2k_hello_t *out, mt_error_t **err);
void ed2k_hello_clear(ed2k_hello_t *h);
/* ed2k_caps_from_hello: zeroes *c and fills it from the misc options; with
 * no MISCOPTIONS1, no_view_shared is set (aMule's default). */
void ed2k_caps_from_hello(const ed2k_hello_t *h, ed2k_caps_t *c);
/* ed2k_hello_software: the client software a hello names, for people
 * ("aMule 2.3.3", "eMule 0.50a", "MLDonkey", "eDonkey"), as aMule's
 * client list tells it: from CT_EMULE_VERSION's compatible-client id and
 * version, else the trailing MLDonkey or Hybrid marks, else the plain
 * eDonkey hello. Writes at most len bytes into buf (NUL-terminated). */
void ed2k_hello_software(const ed2k_hello_t *h, char *buf, size_t len);

typedef struct ed2k_hello_params {
    uint8_t user_hash[16];
    uint32_t client_id;         /* from the server, or 0 */
    uint16_t tcp_port;
    uint16_t udp_port;          /* 0 when client UDP is off */
    uint16_t kad_port;          /* 0 when Kad is not connected */
    const char *nickname;       /* UTF-8; NULL is sent as "" */
    uint8_t compat_client;      /* CT_EMULE_VERSION: id, 7-bit major and */
    uint8_t ver_major;          /* minor, 3-bit update */
    uint8_t ver_minor;
    uint8_t ver_update;
    uint32_t misc1;             /* ed2k_caps_to_misc1() */
    uint32_t misc2;             /* ed2k_caps_to_misc2() */
    bool has_buddy;             /* firewalled Kad node with a buddy */
    uint32_t buddy_ip;
    uint16_t buddy_port;
    bool send_compat_options;   /* CT_EMULECOMPAT_OPTIONS; keep false (§12) */
    uint32_t compat_options;
    const char *mod_version;    /* ET_MOD_VERSION, or NULL */
    uint32_t server_ip;
    uint16_t server_port;
} ed2k_hello_params_t;

/* ed2k_hello_encode / ed2k_helloanswer_encode: the classic-form tags in
 * aMule's order: CT_NAME, CT_VERSION (0x3C), CT_EMULE_UDPPORTS, [BUDDYIP,
 * BUDDYUDP], CT_EMULE_VERSION, MISCOPTIONS1, MISCOPTIONS2,
 * [EMULECOMPAT_OPTIONS], [MOD_VERSION], integers as UINT32. Fails when a
 * version part does not fit its bits or a string is over 65535 bytes. */
int ed2k_hello_encode(struct evbuffer *out, const ed2k_hello_params_t *hp, mt_error_t **err);
int ed2k_helloanswer_encode(struct evbuffer *out, const ed2k_hello_params_t *hp,
                            mt_error_t **err);

/* ---- OP_EMULEINFO (0xC5 0x01) / OP_EMULEINFOANSWER (0xC5 0x02) (§5.2) ---- */

typedef struct ed2k_emuleinfo {
    uint8_t version;            /* client version byte */
    uint8_t protocol;           /* 0x01, or 0xFF: aMule's OS-info packet */
    ed2k_taglist_t *tags;       /* owned */
    /* ET_* values, 0 when absent (only read when protocol is 0x01) */
    uint8_t data_comp_ver;
    uint8_t udp_ver;
    uint16_t udp_port;
    uint8_t sx1_ver;
    uint8_t comments_ver;
    uint8_t ext_req_ver;
    uint8_t compat_client;
    uint32_t features;          /* bits 0-1 secure ident, bit 7 preview */
    char *mod_version;          /* owned, or NULL */
    char *os_info;              /* owned: ET_OS_INFO with protocol 0xFF */
} ed2k_emuleinfo_t;

/* ed2k_emuleinfo_decode: both opcodes. A known tag with the wrong kind of
 * value is an error; unknown tags are kept; bytes after the tags are ignored
 * (aMule). Free with ed2k_emuleinfo_clear(). */
int ed2k_emuleinfo_decode(const uint8_t *p, size_t len, ed2k_emuleinfo_t *out,
                          mt_error_t **err);
void ed2k_emuleinfo_clear(ed2k_emuleinfo_t *ei);
/* ed2k_caps_from_emuleinfo: for pre-0.42 peers (no CT_EMULE_VERSION): zeroes
 * *c and, when the protocol byte is 0x01, fills it as aMule does (data
 * compression 0 clears SX1, extended requests and comments, and the UDP
 * port is then to be taken as 0; versions 0x22..0x24 imply UDP, SX1 and
 * comments support; 0x2B counts as 0x22) and returns true. */
bool ed2k_caps_from_emuleinfo(const ed2k_emuleinfo_t *ei, ed2k_caps_t *c);
/* ed2k_emuleinfo_encode: answer picks OP_EMULEINFOANSWER; tags are written
 * in classic form. */
int ed2k_emuleinfo_encode(struct evbuffer *out, bool answer, uint8_t version, uint8_t protocol,
                          const ed2k_taglist_t *tags, mt_error_t **err);
/* ed2k_emuleinfo_tags: the ET_* tags aMule sends, from our capabilities;
 * caller frees with ed2k_taglist_free. mod_version may be NULL. */
ed2k_taglist_t *ed2k_emuleinfo_tags(const ed2k_caps_t *c, uint16_t udp_port,
                                    uint8_t compat_client, const char *mod_version);

/* ---- File requests (§5.3) ---- */

/* How a requester's extended info ends after a part count of 0, when the
 * extended-requests version is 2: eMule always reads the complete-source
 * count, aMule reads it only after a non-zero part count. Real requesters
 * always send a non-zero count, so this only matters for odd peers. */
typedef enum {
    ED2K_EXTINFO_EMULE = 0,
    ED2K_EXTINFO_AMULE = 1,
} ed2k_extinfo_style_t;

/* Extended info after OP_REQUESTFILENAME: sent according to the receiver's
 * extended-requests version (>= 1: part status; >= 2: also the
 * complete-source count), read according to the sender's. */
typedef struct ed2k_extinfo {
    bool has_parts;
    ed2k_partstatus_t parts;
    bool has_complete_sources;
    uint16_t complete_sources;
} ed2k_extinfo_t;

/* OP_MULTIPACKET (0xC5 0x92) / OP_MULTIPACKET_EXT (0xC5 0xA4) requests. */
typedef struct ed2k_multipacket {
    uint8_t hash[16];
    bool ext;                   /* _EXT: the file size follows the hash */
    uint64_t size;
    bool req_filename;          /* 0x58 OP_REQUESTFILENAME + extinfo */
    ed2k_extinfo_t extinfo;
    bool req_status;            /* 0x4F OP_SETREQFILEID */
    bool req_sources;           /* 0x81 OP_REQUESTSOURCES (SX1) */
    bool req_sources2;          /* 0x83 OP_REQUESTSOURCES2 <version><options> */
    uint8_t sx2_version;
    uint16_t sx2_options;
    bool req_aich;              /* 0x9E OP_AICHFILEHASHREQ */
} ed2k_multipacket_t;

/* ed2k_multipacket_decode: ext selects OP_MULTIPACKET_EXT; ext_req_ver is
 * the peer's extended-requests version (from its hello). Sub-requests have
 * no length, so an unknown sub-opcode is an error (aMule skips the byte and
 * desynchronises); a repeated one overrides the earlier. With _EXT and a
 * non-zero size a non-zero part count must match the size. */
int ed2k_multipacket_decode(const uint8_t *p, size_t len, bool ext, uint8_t ext_req_ver,
                            ed2k_extinfo_style_t style, ed2k_multipacket_t *out,
                            mt_error_t **err);
/* ed2k_multipacket_encode: sub-requests in aMule's order (58, 4F, 83 or 81,
 * 9E). The extinfo is written as its has_ flags say (set them from the
 * peer's extended-requests version); complete sources need parts. */
int ed2k_multipacket_encode(struct evbuffer *out, const ed2k_multipacket_t *m,
                            mt_error_t **err);

/* OP_MULTIPACKETANSWER (0xC5 0x93). */
typedef struct ed2k_multipacket_answer {
    uint8_t hash[16];
    bool has_name;              /* 0x59: u16 length + name (borrowed) */
    const uint8_t *name;
    size_t name_len;
    bool has_status;            /* 0x50: part status */
    ed2k_partstatus_t status;
    bool has_aich;              /* 0x9D: AICH root */
    uint8_t aich[ED2K_AICH_HASH_LEN];
} ed2k_multipacket_answer_t;

/* ed2k_multipacket_answer_decode: unknown sub-opcodes are errors, repeats
 * override. Names are raw bytes: convert with ed2k_text_to_utf8(). */
int ed2k_multipacket_answer_decode(const uint8_t *p, size_t len,
                                   ed2k_multipacket_answer_t *out, mt_error_t **err);
int ed2k_multipacket_answer_encode(struct evbuffer *out, const ed2k_multipacket_answer_t *a,
                                   mt_error_t **err);

/* OP_REQUESTFILENAME (0xE3 0x58) standalone: <hash>[extinfo]. With
 * ext_req_ver >= 1 the part count is required (aMule throws on a bare hash);
 * bytes after the extinfo are ignored. encode: ext may be NULL. */
typedef struct ed2k_requestfilename {
    uint8_t hash[16];
    ed2k_extinfo_t extinfo;
} ed2k_requestfilename_t;

int ed2k_requestfilename_decode(const uint8_t *p, size_t len, uint8_t ext_req_ver,
                                ed2k_extinfo_style_t style, ed2k_requestfilename_t *out,
                                mt_error_t **err);
int ed2k_requestfilename_encode(struct evbuffer *out, const uint8_t hash[16],
                                const ed2k_extinfo_t *ext, mt_error_t **err);

/* OP_REQFILENAMEANSWER (0xE3 0x59): <hash><name_len u16><name> (u16, not the
 * u32 old comments claim). Trailing bytes are ignored. name is borrowed. */
typedef struct ed2k_reqfilenameanswer {
    uint8_t hash[16];
    const uint8_t *name;
    size_t name_len;
} ed2k_reqfilenameanswer_t;

int ed2k_reqfilenameanswer_decode(const uint8_t *p, size_t len, ed2k_reqfilenameanswer_t *out,
                                  mt_error_t **err);
int ed2k_reqfilenameanswer_encode(struct evbuffer *out, const uint8_t hash[16],
                                  const void *name, size_t name_len, mt_error_t **err);

/* OP_FILESTATUS (0xE3 0x50): <hash><count u16><bitmap>; count 0 = complete.
 * Trailing bytes are ignored; check the count with ed2k_partstatus_check. */
typedef struct ed2k_filestatus {
    uint8_t hash[16];
    ed2k_partstatus_t status;
} ed2k_filestatus_t;

int ed2k_filestatus_decode(const uint8_t *p, size_t len, ed2k_filestatus_t *out,
                           mt_error_t **err);
int ed2k_filestatus_encode(struct evbuffer *out, const uint8_t hash[16],
                           const ed2k_partstatus_t *status, mt_error_t **err);

/* Messages that are only a file hash. Sizes as aMule: exactly 16 bytes for
 * OP_SETREQFILEID, OP_FILEREQANSNOFIL, OP_HASHSETREQUEST, OP_STARTUPLOADREQ
 * (aMule ignores other sizes) and OP_REQUESTSOURCES; at least 16 for
 * OP_END_OF_DOWNLOAD and OP_AICHFILEHASHREQ (the rest is ignored). */
int ed2k_setreqfileid_decode(const uint8_t *p, size_t len, uint8_t hash[16], mt_error_t **err);
void ed2k_setreqfileid_encode(struct evbuffer *out, const uint8_t hash[16]);
int ed2k_filereqansnofil_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                                mt_error_t **err);
void ed2k_filereqansnofil_encode(struct evbuffer *out, const uint8_t hash[16]);
int ed2k_hashsetrequest_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                               mt_error_t **err);
void ed2k_hashsetrequest_encode(struct evbuffer *out, const uint8_t hash[16]);
int ed2k_startuploadreq_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                               mt_error_t **err);
void ed2k_startuploadreq_encode(struct evbuffer *out, const uint8_t hash[16]);
int ed2k_end_of_download_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                                mt_error_t **err);
void ed2k_end_of_download_encode(struct evbuffer *out, const uint8_t hash[16]);
int ed2k_requestsources_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                               mt_error_t **err);
void ed2k_requestsources_encode(struct evbuffer *out, const uint8_t hash[16]);
int ed2k_aichfilehashreq_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                                mt_error_t **err);
void ed2k_aichfilehashreq_encode(struct evbuffer *out, const uint8_t hash[16]);

/* ---- Hash set (§5.4) ---- */

/* OP_HASHSETANSWER (0xE3 0x52): <hash><count u16><count x 16>; hashes is
 * borrowed (count * 16 bytes). Trailing bytes are ignored. */
typedef struct ed2k_hashsetanswer {
    uint8_t hash[16];
    uint16_t count;
    const uint8_t *hashes;
} ed2k_hashsetanswer_t;

int ed2k_hashsetanswer_decode(const uint8_t *p, size_t len, ed2k_hashsetanswer_t *out,
                              mt_error_t **err);
/* ed2k_hashsetanswer_encode: n part hashes (at most 65535). */
int ed2k_hashsetanswer_encode(struct evbuffer *out, const uint8_t hash[16],
                              const uint8_t (*parts)[16], size_t n, mt_error_t **err);
/* ed2k_hashsetanswer_verify: the count is ed2k_hash_count(size) (non-zero)
 * and the MD4 of the hashes is the file hash (§6.1). */
int ed2k_hashsetanswer_verify(const ed2k_hashsetanswer_t *hs, uint64_t size, mt_error_t **err);

/* ---- Upload queue (§5.5) ---- */

/* OP_QUEUERANKING (0xC5 0x60): exactly 12 bytes, rank u16 + 10 zero bytes
 * (their value is not checked, as in aMule). */
int ed2k_queueranking_decode(const uint8_t *p, size_t len, uint16_t *rank, mt_error_t **err);
void ed2k_queueranking_encode(struct evbuffer *out, uint16_t rank);
/* OP_QUEUERANK (0xE3 0x5C): rank u32; trailing bytes ignored. */
int ed2k_queuerank_decode(const uint8_t *p, size_t len, uint32_t *rank, mt_error_t **err);
void ed2k_queuerank_encode(struct evbuffer *out, uint32_t rank);
/* Empty messages; any payload a peer adds is ignored by aMule, and needs no
 * decoder. */
void ed2k_acceptuploadreq_encode(struct evbuffer *out);
void ed2k_canceltransfer_encode(struct evbuffer *out);
void ed2k_outofpartreqs_encode(struct evbuffer *out);

/* ---- Block requests and data (§5.6) ---- */

typedef struct ed2k_range {
    uint64_t start;             /* inclusive */
    uint64_t end;               /* exclusive */
} ed2k_range_t;

/* OP_REQUESTPARTS (0xE3 0x47, 40 bytes) / OP_REQUESTPARTS_I64 (0xC5 0xA3,
 * 64 bytes): three starts then three ends. The decoder returns the non-empty
 * ranges in slot order (an empty slot, start == end, is skipped as aMule
 * does) and rejects end < start (aMule logs and skips those). Bytes past the
 * six offsets are ignored. The uploader still has to check ranges against
 * the file and drop duplicates (§5.6). */
typedef struct ed2k_requestparts {
    uint8_t hash[16];
    size_t n;
    ed2k_range_t ranges[3];
} ed2k_requestparts_t;

int ed2k_requestparts_decode(const uint8_t *p, size_t len, bool i64, ed2k_requestparts_t *out,
                             mt_error_t **err);
/* ed2k_requestparts_encode: up to three non-empty ranges (start < end); the
 * rest of the slots are 0,0. i64 is the caller's choice (§5.6: only when an
 * offset needs it and the peer has large files); without it every offset
 * must fit 32 bits. */
int ed2k_requestparts_encode(struct evbuffer *out, const uint8_t hash[16],
                             const ed2k_range_t *ranges, size_t n, bool i64, mt_error_t **err);

/* OP_SENDINGPART (0xE3 0x46) / OP_SENDINGPART_I64 (0xC5 0xA2): <hash><start>
 * <end><data>, end exclusive. The decoder requires end - start == the data
 * length and at least one byte (aMule's checks); data is borrowed. */
typedef struct ed2k_sendingpart {
    uint8_t hash[16];
    uint64_t start;
    uint64_t end;
    const uint8_t *data;
    size_t len;
} ed2k_sendingpart_t;

int ed2k_sendingpart_decode(const uint8_t *p, size_t len, bool i64, ed2k_sendingpart_t *out,
                            mt_error_t **err);
int ed2k_sendingpart_encode(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                            const void *data, size_t len, bool i64, mt_error_t **err);
/* ed2k_sendingpart_encode_block: a whole requested block cut into packets
 * as aMule 2.3.3 does (ed2k_c2c_fragment_size; about 10 KiB each). */
int ed2k_sendingpart_encode_block(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                                  const void *block, size_t len, bool i64, mt_error_t **err);
/* ed2k_c2c_fragment_size: aMule 2.3.3's packet size for a total of n bytes:
 * n / (n / 10240) above 10240, else n. Every packet but the last has this
 * size; the last takes the rest (less than twice the size). */
size_t ed2k_c2c_fragment_size(size_t n);

/* ed2k_c2c_data_len: how many bytes of a client-to-client packet's payload
 * are file data: what follows the hash and the offsets in OP_SENDINGPART,
 * OP_COMPRESSEDPART and their _I64 forms (compressed bytes for the
 * latter); 0 for every other packet. The rest of what crosses a peer
 * connection is protocol overhead (docs/metrics.md). */
size_t ed2k_c2c_data_len(uint8_t proto, uint8_t opcode, size_t payload_len);
/* ed2k_c2c_data_len_evbuffer: the same, summed over the framed packets in
 * b (protocol byte, u32 length, opcode, payload; read, not drained). A
 * packet cut short at the end counts what it has of its data. */
size_t ed2k_c2c_data_len_evbuffer(struct evbuffer *b);

/* OP_COMPRESSEDPART (0xC5 0x40) / OP_COMPRESSEDPART_I64 (0xC5 0xA1):
 * <hash><block start u32|u64><compressed size u32><fragment>. Every fragment
 * of a block carries the block's start and the total compressed size. The
 * decoder requires a non-empty fragment no longer than the total; data is
 * borrowed. */
typedef struct ed2k_compressedpart {
    uint8_t hash[16];
    uint64_t start;
    uint32_t packed_size;
    const uint8_t *data;
    size_t len;
} ed2k_compressedpart_t;

int ed2k_compressedpart_decode(const uint8_t *p, size_t len, bool i64,
                               ed2k_compressedpart_t *out, mt_error_t **err);
int ed2k_compressedpart_encode(struct evbuffer *out, const uint8_t hash[16], uint64_t start,
                               uint32_t packed_size, const void *frag, size_t len, bool i64,
                               mt_error_t **err);

typedef enum {
    ED2K_DEFLATE_ERROR = -1,
    ED2K_DEFLATE_NOT_WORTH_IT = 0, /* nothing appended: send it plain */
    ED2K_DEFLATE_OK = 1,
} ed2k_deflate_status_t;

/* ed2k_compressedpart_encode_block: deflates a whole requested block (zlib
 * format, level 0..9 or -1; aMule 2.3.3 uses 9, eMule 0.70 1) and appends
 * its fragments as aMule 2.3.3 cuts them. Returns ED2K_DEFLATE_NOT_WORTH_IT,
 * appending nothing, when the compressed form is not smaller than the block.
 * No inflate-ratio limit applies: aMule's receiver grows its buffer as
 * needed and only checks that output stays inside the requested block
 * (DownloadClient.cpp unzip), unlike packed packets (10x + 300). */
ed2k_deflate_status_t ed2k_compressedpart_encode_block(struct evbuffer *out,
                                                       const uint8_t hash[16], uint64_t start,
                                                       const void *block, size_t len,
                                                       int level, bool i64, mt_error_t **err);

/* The receiving side: one inflate stream per requested block, fed with the
 * fragments in order. Output continues from the block start. */
typedef struct ed2k_inflater ed2k_inflater_t;

/* ed2k_inflater_new: for a block starting at block_start whose compressed
 * stream is packed_size bytes (from the first fragment) and must not
 * inflate beyond max_out bytes (the requested block's length). */
ed2k_inflater_t *ed2k_inflater_new(uint64_t block_start, uint32_t packed_size, size_t max_out);
void ed2k_inflater_free(ed2k_inflater_t *inf);

/* A sink receives each run of inflated bytes with its file offset; it
 * returns 0, or -1 (setting err) to stop. */
typedef int (*ed2k_inflate_sink_fn)(void *ctx, uint64_t offset, const uint8_t *data, size_t len,
                                    mt_error_t **err);

/* ed2k_inflater_feed: inflates one fragment. Errors (MT_ERR_PROTOCOL; the
 * block must then be dropped and asked for again, §5.6): corrupt data, more
 * input than the announced compressed size, output beyond max_out, a stream
 * that ends before the announced size or does not end at it, data after
 * the end, any feed after an error. Output produced before an error has
 * already gone to the sink. */
int ed2k_inflater_feed(ed2k_inflater_t *inf, const uint8_t *frag, size_t len,
                       ed2k_inflate_sink_fn sink, void *ctx, mt_error_t **err);
/* ed2k_inflater_feed_evbuffer: the same, appending the output to out. */
int ed2k_inflater_feed_evbuffer(ed2k_inflater_t *inf, const uint8_t *frag, size_t len,
                                struct evbuffer *out, mt_error_t **err);
/* ed2k_inflater_is_done: the stream ended exactly at the announced size. */
bool ed2k_inflater_is_done(const ed2k_inflater_t *inf);
uint64_t ed2k_inflater_block_start(const ed2k_inflater_t *inf);
uint32_t ed2k_inflater_packed_size(const ed2k_inflater_t *inf);
uint64_t ed2k_inflater_consumed(const ed2k_inflater_t *inf); /* compressed bytes fed */
uint64_t ed2k_inflater_produced(const ed2k_inflater_t *inf); /* bytes inflated */

/* ---- Source exchange (§5.8) ---- */

/* OP_REQUESTSOURCES2 (0xC5 0x83) standalone, eMule's form: <version u8>
 * <options u16><hash 16>, exactly 19 bytes. aMule 2.3.3 drops a connection
 * that sends it: to aMule, ask inside OP_MULTIPACKET(_EXT) only. */
typedef struct ed2k_requestsources2 {
    uint8_t version;
    uint16_t options;
    uint8_t hash[16];
} ed2k_requestsources2_t;

int ed2k_requestsources2_decode(const uint8_t *p, size_t len, ed2k_requestsources2_t *out,
                                mt_error_t **err);
void ed2k_requestsources2_encode(struct evbuffer *out, uint8_t version, uint16_t options,
                                 const uint8_t hash[16]);

typedef struct ed2k_sx_source {
    uint32_t id;                /* as on the wire: hybrid form for version >= 3 */
    uint16_t port;
    uint32_t server_ip;
    uint16_t server_port;
    uint8_t user_hash[16];      /* version >= 2, else zero */
    uint8_t crypt_options;      /* version >= 4, else 0 */
} ed2k_sx_source_t;

typedef struct ed2k_answersources {
    uint8_t version;            /* layout used: 1..4 */
    uint8_t hash[16];
    size_t count;
    ed2k_sx_source_t *sources;  /* owned */
} ed2k_answersources_t;

/* ed2k_answersources2_decode: OP_ANSWERSOURCES2 (0xC5 0x84), <version><hash>
 * <count u16><sources>; version 1..4 and the exact size the count implies
 * (aMule's checks). Free with ed2k_answersources_clear. */
int ed2k_answersources2_decode(const uint8_t *p, size_t len, ed2k_answersources_t *out,
                               mt_error_t **err);
/* ed2k_answersources_decode: OP_ANSWERSOURCES (SX1, 0xC5 0x82), no version
 * byte: like aMule, the layout follows from the size per source (12 bytes:
 * v1, 28: v2 or v3, 29: v4) and must agree with sx1_ver, the peer's SX1
 * version (from MISCOPTIONS1). */
int ed2k_answersources_decode(const uint8_t *p, size_t len, uint8_t sx1_ver,
                              ed2k_answersources_t *out, mt_error_t **err);
void ed2k_answersources_clear(ed2k_answersources_t *as);
/* Encoders write ids as given (convert with ed2k_c2c_id_to_hybrid for
 * version >= 3); at most 65535 sources; version 1..4. */
int ed2k_answersources2_encode(struct evbuffer *out, uint8_t version, const uint8_t hash[16],
                               const ed2k_sx_source_t *src, size_t n, mt_error_t **err);
int ed2k_answersources_encode(struct evbuffer *out, uint8_t version, const uint8_t hash[16],
                              const ed2k_sx_source_t *src, size_t n, mt_error_t **err);

/* ---- Other client packets (§5.7) ---- */

/* OP_AICHFILEHASHANS (0xC5 0x9D): <hash 16><aich root 20>; trailing bytes
 * ignored. */
int ed2k_aichfilehashans_decode(const uint8_t *p, size_t len, uint8_t hash[16],
                                uint8_t aich[ED2K_AICH_HASH_LEN], mt_error_t **err);
void ed2k_aichfilehashans_encode(struct evbuffer *out, const uint8_t hash[16],
                                 const uint8_t aich[ED2K_AICH_HASH_LEN]);

/* OP_PUBLICIP_REQ (0xC5 0x97, empty) / OP_PUBLICIP_ANSWER (0xC5 0x98,
 * exactly 4 bytes: the requester's IP in ed2k form). */
void ed2k_publicip_req_encode(struct evbuffer *out);
int ed2k_publicip_answer_decode(const uint8_t *p, size_t len, uint32_t *ip, mt_error_t **err);
void ed2k_publicip_answer_encode(struct evbuffer *out, uint32_t ip);

/* OP_ASKSHAREDFILES (0xE3 0x4A) and our refusal OP_ASKSHAREDDENIEDANS
 * (0xE3 0x61), both empty. */
void ed2k_asksharedfiles_encode(struct evbuffer *out);
void ed2k_askshareddeniedans_encode(struct evbuffer *out);

/* OP_MESSAGE (0xE3 0x4E): <len u16><text>, and nothing else (aMule's
 * check). text is borrowed raw bytes. */
int ed2k_message_decode(const uint8_t *p, size_t len, const uint8_t **text, size_t *text_len,
                        mt_error_t **err);
int ed2k_message_encode(struct evbuffer *out, const void *text, size_t len, mt_error_t **err);

/* OP_CHANGE_CLIENT_ID (0xE3 0x4D): <new id u32><new server ip u32> (aMule
 * and eMule read it so; the protocol doc's "old, new" is wrong). Trailing
 * bytes ignored. */
int ed2k_change_client_id_decode(const uint8_t *p, size_t len, uint32_t *new_id,
                                 uint32_t *server_ip, mt_error_t **err);
void ed2k_change_client_id_encode(struct evbuffer *out, uint32_t new_id, uint32_t server_ip);

/* OP_FILEDESC (0xC5 0x61): <rating u8><len u32><comment>. As aMule reads it,
 * a comment shorter than its length is taken as it is; bytes past the
 * length are ignored. text is borrowed. */
typedef struct ed2k_filedesc {
    uint8_t rating;             /* 0..5; aMule treats larger values as 0 */
    const uint8_t *text;
    size_t text_len;
} ed2k_filedesc_t;

int ed2k_filedesc_decode(const uint8_t *p, size_t len, ed2k_filedesc_t *out, mt_error_t **err);
int ed2k_filedesc_encode(struct evbuffer *out, uint8_t rating, const void *text, size_t len,
                         mt_error_t **err);

/* ---- Client UDP (protocol 0xC5, §5.5) ---- */

/* OP_REASKFILEPING (0x90): <hash> then, by the sender's UDP version: >= 4
 * part status and the complete-source count; 3 only the count; older
 * nothing. (aMule and eMule send the count after the part status too.) The
 * decoder takes the peer's UDP version; with >= 4 the count may be missing;
 * trailing bytes are ignored (aMule). The encoder writes what has_ says. */
typedef struct ed2k_reaskfileping {
    uint8_t hash[16];
    bool has_parts;
    ed2k_partstatus_t parts;
    bool has_complete_sources;
    uint16_t complete_sources;
} ed2k_reaskfileping_t;

int ed2k_reaskfileping_decode(const uint8_t *p, size_t len, uint8_t udp_ver,
                              ed2k_reaskfileping_t *out, mt_error_t **err);
int ed2k_reaskfileping_encode(struct evbuffer *out, const ed2k_reaskfileping_t *r,
                              mt_error_t **err);

/* OP_REASKACK (0x91): (UDP version >= 4) part status, then rank u16. */
typedef struct ed2k_reaskack {
    bool has_parts;
    ed2k_partstatus_t parts;
    uint16_t rank;
} ed2k_reaskack_t;

int ed2k_reaskack_decode(const uint8_t *p, size_t len, uint8_t udp_ver, ed2k_reaskack_t *out,
                         mt_error_t **err);
int ed2k_reaskack_encode(struct evbuffer *out, const ed2k_reaskack_t *r, mt_error_t **err);

/* OP_QUEUEFULL (0x93) and OP_FILENOTFOUND (0x92): empty. */
void ed2k_queuefull_encode(struct evbuffer *out);
void ed2k_filenotfound_encode(struct evbuffer *out);

#endif
