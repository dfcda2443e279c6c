/* servermet.c: server.met reading (bounded, both tag forms, aMule's
 * tolerances, duplicates dropped) and writing in the form amuled loads. */
#include "config.h"

#include "ed2k/servermet.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "ed2k/text.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const uint8_t bom[3] = { 0xEF, 0xBB, 0xBF };

/* Text. */

/* is_control: at s[i] (valid UTF-8) a C0 control, DEL, a C1 control
 * (U+0080..U+009F, encoded C2 80..C2 9F) or a stray BOM (U+FEFF, which
 * the reader would take for the marker); *n gets its length. */
static bool
is_control(const unsigned char *s, size_t len, size_t i, size_t *n)
{
    *n = 1;
    if (s[i] < 0x20 || s[i] == 0x7F)
        return true;
    if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F) {
        *n = 2;
        return true;
    }
    if (s[i] == 0xEF && i + 2 < len && s[i + 1] == 0xBB && s[i + 2] == 0xBF) {
        *n = 3;
        return true;
    }
    return false;
}

char *
ed2k_server_text(const void *s, size_t len)
{
    size_t n;
    char *t = ed2k_text_to_utf8(s, len, &n);
    const unsigned char *u = (const unsigned char *)t;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k;
        if (is_control(u, n, i, &k)) {
            i += k;
            continue;
        }
        t[o++] = t[i++];
    }
    /* Keep it writable again (a Latin-1 string doubles in UTF-8): cut at
     * a character boundary. */
    if (o > ED2K_SERVER_TEXT_MAX) {
        o = ED2K_SERVER_TEXT_MAX;
        while (o > 0 && ((unsigned char)t[o] & 0xC0) == 0x80)
            o--;
    }
    t[o] = '\0';
    if (o == 0) {
        free(t);
        return NULL;
    }
    return t;
}

char *
ed2k_server_version_text(uint32_t v)
{
    return xasprintf("%u.%u", (unsigned)(v >> 16), (unsigned)(v & 0xFFFF));
}

/* is_host_name: what a dynip may hold: letters, digits, '-', '_' and '.',
 * not starting with '-' or '.', at most 253 bytes. */
static bool
is_host_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* first_port: the first port of an aux port list "p1,p2,..." (spaces
 * allowed around it), 0 when it is not 1..65535. */
static uint16_t
first_port(const char *s)
{
    if (s == NULL)
        return 0;
    while (*s == ' ')
        s++;
    unsigned long v = 0;
    size_t digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 6) {
        v = v * 10 + (unsigned long)(*s++ - '0');
        digits++;
    }
    while (*s == ' ')
        s++;
    if (digits == 0 || (*s != '\0' && *s != ',') || v == 0 || v > 65535)
        return 0;
    return (uint16_t)v;
}

/* Duplicates: an open-addressing set of entry indexes keyed by address. */

typedef struct {
    size_t *slots; /* index + 1; 0 is empty */
    size_t mask;
    size_t count;
} addrset_t;

static uint64_t
addr_hash(const ed2k_server_entry_t *e)
{
    uint64_t h = 1469598103934665603ull;
    if (e->dynip != NULL) {
        for (const char *p = e->dynip; *p; p++) {
            char c = *p;
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            h = (h ^ (uint8_t)c) * 1099511628211ull;
        }
    } else {
        for (int i = 0; i < 4; i++)
            h = (h ^ ((e->ip >> (8 * i)) & 0xFF)) * 1099511628211ull;
    }
    h = (h ^ (e->port & 0xFF)) * 1099511628211ull;
    h = (h ^ (e->port >> 8)) * 1099511628211ull;
    return h;
}

static bool
same_address(const ed2k_server_entry_t *a, const ed2k_server_entry_t *b)
{
    if (a->port != b->port || (a->dynip == NULL) != (b->dynip == NULL))
        return false;
    if (a->dynip != NULL)
        return strcasecmp(a->dynip, b->dynip) == 0;
    return a->ip == b->ip;
}

static void
addrset_init(addrset_t *set)
{
    set->slots = xcalloc(16, sizeof *set->slots);
    set->mask = 15;
    set->count = 0;
}

static void
addrset_put(size_t *slots, size_t mask, const ed2k_server_entry_t *v, size_t i)
{
    size_t k = (size_t)addr_hash(&v[i]) & mask;
    while (slots[k] != 0)
        k = (k + 1) & mask;
    slots[k] = i + 1;
}

/* addrset_add: adds v[i] unless an entry with its address is there;
 * returns false for a repeat. The table stays at most half full. */
static bool
addrset_add(addrset_t *set, const ed2k_server_entry_t *v, size_t i)
{
    size_t k = (size_t)addr_hash(&v[i]) & set->mask;
    while (set->slots[k] != 0) {
        if (same_address(&v[set->slots[k] - 1], &v[i]))
            return false;
        k = (k + 1) & set->mask;
    }
    set->slots[k] = i + 1;
    if (++set->count * 2 > set->mask + 1) {
        size_t cap = (set->mask + 1) * 2;
        size_t *slots = xcalloc(cap, sizeof *slots);
        for (size_t j = 0; j <= set->mask; j++)
            if (set->slots[j] != 0)
                addrset_put(slots, cap - 1, v, set->slots[j] - 1);
        free(set->slots);
        set->slots = slots;
        set->mask = cap - 1;
    }
    return true;
}

/* Reading. */

static void
set_first_text(char **dst, const ed2k_tag_t *t)
{
    if (*dst == NULL && ed2k_tag_is_str(t))
        *dst = ed2k_server_text(t->v.data, t->v.len);
}

static void
apply_tag(ed2k_server_entry_t *e, const ed2k_tag_t *t)
{
    bool is_int = ed2k_tag_is_int(t);
    uint32_t u = (uint32_t)t->v.u; /* aMule keeps 32 bits of every counter */
    if (t->name != NULL) {
        if (!is_int)
            return;
        if (strcmp(t->name, "users") == 0)
            e->users = u;
        else if (strcmp(t->name, "files") == 0)
            e->files = u;
        else if (strcmp(t->name, ED2K_SERVERMET_TAG_TCPFLAGS) == 0)
            e->tcp_flags = u;
        else if (strcmp(t->name, ED2K_SERVERMET_TAG_STATIC) == 0)
            e->is_static = t->v.u != 0;
        return;
    }
    switch (t->id) {
    case ED2K_ST_SERVERNAME:
        set_first_text(&e->name, t);
        return;
    case ED2K_ST_DESCRIPTION:
        set_first_text(&e->description, t);
        return;
    case ED2K_ST_DYNIP:
        if (e->dynip == NULL && ed2k_tag_is_str(t)) {
            char *h = ed2k_server_text(t->v.data, t->v.len);
            if (h != NULL && !is_host_name(h)) {
                free(h);
                h = NULL;
            }
            e->dynip = h;
        }
        return;
    case ED2K_ST_VERSION:
        if (e->version == NULL && is_int)
            e->version = ed2k_server_version_text(u);
        else
            set_first_text(&e->version, t);
        return;
    case ED2K_ST_AUXPORTSLIST:
        set_first_text(&e->aux_ports, t);
        e->aux_port = first_port(e->aux_ports);
        return;
    default:
        break;
    }
    if (!is_int)
        return;
    switch (t->id) {
    case ED2K_ST_PING:
        e->ping_ms = u;
        break;
    case ED2K_ST_FAIL:
        e->fails = u;
        break;
    case ED2K_ST_PREFERENCE:
        e->preference = t->v.u <= ED2K_SERVER_PRIO_LOW ? u : ED2K_SERVER_PRIO_NORMAL;
        break;
    case ED2K_ST_MAXUSERS:
        e->max_users = u;
        break;
    case ED2K_ST_SOFTFILES:
        e->soft_files = u;
        break;
    case ED2K_ST_HARDFILES:
        e->hard_files = u;
        break;
    case ED2K_ST_LASTPING:
        e->last_ping = u;
        break;
    case ED2K_ST_UDPFLAGS:
        e->udp_flags = u;
        break;
    case ED2K_ST_LOWIDUSERS:
        e->lowid_users = u;
        break;
    case ED2K_ST_UDPKEY:
        e->udp_key = u;
        break;
    case ED2K_ST_UDPKEYIP:
        e->udp_key_ip = u;
        break;
    case ED2K_ST_TCPPORTOBFUSCATION:
        e->obfu_tcp_port = (uint16_t)u; /* aMule and eMule cast the same way */
        break;
    case ED2K_ST_UDPPORTOBFUSCATION:
        e->obfu_udp_port = (uint16_t)u;
        break;
    default:
        break; /* ST_LASTPING_DEPRECATED and unknown ids */
    }
}

int
ed2k_servermet_parse(const uint8_t *p, size_t len, ed2k_server_entry_t **out, size_t *n,
                     mt_error_t **err)
{
    *out = NULL;
    *n = 0;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint8_t version;
    uint32_t count;
    if (ed2k_read_u8(&r, &version) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "server.met: the file is empty");
        return ED2K_SERVERMET_ERROR;
    }
    if (version != ED2K_SERVERMET_VERSION && version != ED2K_SERVERMET_VERSION_OLD) {
        mt_error_set(err, MT_ERR_INVALID, "server.met: unknown version byte 0x%02x (expected "
                     "0xe0 or 0x0e)", version);
        return ED2K_SERVERMET_ERROR;
    }
    if (ed2k_read_u32(&r, &count) != 0) {
        mt_error_set(err, MT_ERR_INVALID, "server.met: the server count is cut short");
        return ED2K_SERVERMET_ERROR;
    }
    /* The count is not trusted for allocating: the array grows with the
     * entries kept (each took 10 bytes or more). */
    size_t cap = 16, k = 0;
    ed2k_server_entry_t *v = xcalloc(cap, sizeof *v);
    addrset_t seen;
    addrset_init(&seen);
    int status = ED2K_SERVERMET_OK;
    for (uint32_t i = 0; i < count; i++) {
        if (k == cap) {
            v = xreallocarray(v, cap * 2, sizeof *v);
            memset(v + cap, 0, cap * sizeof *v);
            cap *= 2;
        }
        ed2k_server_entry_t *e = &v[k];
        ed2k_taglist_t *tags = NULL;
        mt_error_t *terr = NULL;
        if (ed2k_read_u32(&r, &e->ip) != 0 || ed2k_read_u16(&r, &e->port) != 0
            || ed2k_taglist_read(&r, ED2K_TAGCOUNT_U32, 0, &tags, &terr) != 0) {
            if (terr != NULL)
                mt_error_set(err, MT_ERR_INVALID, "server.met: server %lu of %lu: %s",
                             (unsigned long)i + 1, (unsigned long)count, terr->message);
            else
                mt_error_set(err, MT_ERR_INVALID, "server.met: server %lu of %lu is cut short",
                             (unsigned long)i + 1, (unsigned long)count);
            mt_error_free(terr);
            ed2k_server_entry_clear(e);
            status = i == 0 ? ED2K_SERVERMET_ERROR : ED2K_SERVERMET_PARTIAL;
            break;
        }
        for (size_t t = 0; t < ed2k_taglist_count(tags); t++)
            apply_tag(e, ed2k_taglist_get(tags, t));
        ed2k_taglist_free(tags);
        if (e->port == 0 || (e->ip == 0 && e->dynip == NULL) || !addrset_add(&seen, v, k)) {
            ed2k_server_entry_clear(e);
            continue;
        }
        k++;
    }
    free(seen.slots);
    if (status == ED2K_SERVERMET_ERROR) {
        ed2k_server_entries_free(v, k);
        return ED2K_SERVERMET_ERROR;
    }
    *out = v;
    *n = k;
    return status;
}

/* Writing. */

/* check_text: a string the reader gives back unchanged (or NULL/empty). */
static const char *
check_text(const char *s)
{
    if (s == NULL || *s == '\0')
        return NULL;
    size_t len = strlen(s);
    if (len > ED2K_SERVER_TEXT_MAX)
        return "is too long";
    if (!mt_utf8_is_valid(s, len))
        return "is not valid UTF-8";
    for (size_t i = 0; i < len; i++) {
        size_t k;
        if (is_control((const unsigned char *)s, len, i, &k))
            return "contains a control character";
    }
    return NULL;
}

static int
check_entry(const ed2k_server_entry_t *e, size_t i, mt_error_t **err)
{
    static const char *const names[] = { "name", "description", "dynip", "version", "aux ports" };
    const char *const values[] = { e->name, e->description, e->dynip, e->version, e->aux_ports };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *why = check_text(values[k]);
        if (why != NULL) {
            mt_error_set(err, MT_ERR_INVALID, "server %zu: %s %s", i + 1, names[k], why);
            return -1;
        }
    }
    bool has_dynip = e->dynip != NULL && *e->dynip != '\0';
    if (e->port == 0) {
        mt_error_set(err, MT_ERR_INVALID, "server %zu: port 0", i + 1);
        return -1;
    }
    if (e->ip == 0 && !has_dynip) {
        mt_error_set(err, MT_ERR_INVALID, "server %zu: neither an IP nor a host name", i + 1);
        return -1;
    }
    if (has_dynip && !is_host_name(e->dynip)) {
        mt_error_set(err, MT_ERR_INVALID, "server %zu: dynip \"%s\" is not a host name", i + 1,
                     e->dynip);
        return -1;
    }
    if (e->preference > ED2K_SERVER_PRIO_LOW) {
        mt_error_set(err, MT_ERR_INVALID, "server %zu: preference %lu is not 0, 1 or 2", i + 1,
                     (unsigned long)e->preference);
        return -1;
    }
    bool has_aux = e->aux_ports != NULL && *e->aux_ports != '\0';
    if (has_aux && first_port(e->aux_ports) != e->aux_port) {
        mt_error_set(err, MT_ERR_INVALID, "server %zu: aux_port %u is not the first of \"%s\"",
                     i + 1, (unsigned)e->aux_port, e->aux_ports);
        return -1;
    }
    return 0;
}

static void
add_text(ed2k_taglist_t *tags, uint8_t id, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    size_t len = strlen(s);
    bool ascii = true;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    if (ascii) {
        ed2k_taglist_add_str(tags, id, s, len);
        return;
    }
    /* eMule reads server.met strings as ANSI unless they start with a BOM
     * (its CTag(..., false)); aMule and ed2k_text_to_utf8 drop the BOM. */
    uint8_t *b = xmalloc(len + 3);
    memcpy(b, bom, 3);
    memcpy(b + 3, s, len);
    ed2k_taglist_add_str(tags, id, b, len + 3);
    free(b);
}

static int
write_entry(struct evbuffer *out, const ed2k_server_entry_t *e, mt_error_t **err)
{
    ed2k_taglist_t *t = ed2k_taglist_new();
    char portbuf[8];
    const char *aux = e->aux_ports;
    if ((aux == NULL || *aux == '\0') && e->aux_port != 0) {
        snprintf(portbuf, sizeof portbuf, "%u", (unsigned)e->aux_port);
        aux = portbuf;
    }
    /* aMule's order (ServerList.cpp SaveServerMet), each string once. */
    add_text(t, ED2K_ST_SERVERNAME, e->name);
    add_text(t, ED2K_ST_DYNIP, e->dynip);
    add_text(t, ED2K_ST_DESCRIPTION, e->description);
    add_text(t, ED2K_ST_AUXPORTSLIST, aux);
    ed2k_taglist_add_uint(t, ED2K_ST_FAIL, ED2K_TAG_UINT32, e->fails);
    ed2k_taglist_add_uint(t, ED2K_ST_PREFERENCE, ED2K_TAG_UINT32, e->preference);
    ed2k_taglist_add_named_uint(t, "users", ED2K_TAG_UINT32, e->users);
    ed2k_taglist_add_named_uint(t, "files", ED2K_TAG_UINT32, e->files);
    ed2k_taglist_add_uint(t, ED2K_ST_PING, ED2K_TAG_UINT32, e->ping_ms);
    ed2k_taglist_add_uint(t, ED2K_ST_LASTPING, ED2K_TAG_UINT32, e->last_ping);
    ed2k_taglist_add_uint(t, ED2K_ST_MAXUSERS, ED2K_TAG_UINT32, e->max_users);
    ed2k_taglist_add_uint(t, ED2K_ST_SOFTFILES, ED2K_TAG_UINT32, e->soft_files);
    ed2k_taglist_add_uint(t, ED2K_ST_HARDFILES, ED2K_TAG_UINT32, e->hard_files);
    add_text(t, ED2K_ST_VERSION, e->version);
    ed2k_taglist_add_uint(t, ED2K_ST_UDPFLAGS, ED2K_TAG_UINT32, e->udp_flags);
    ed2k_taglist_add_uint(t, ED2K_ST_LOWIDUSERS, ED2K_TAG_UINT32, e->lowid_users);
    if (e->udp_key != 0)
        ed2k_taglist_add_uint(t, ED2K_ST_UDPKEY, ED2K_TAG_UINT32, e->udp_key);
    if (e->udp_key_ip != 0)
        ed2k_taglist_add_uint(t, ED2K_ST_UDPKEYIP, ED2K_TAG_UINT32, e->udp_key_ip);
    if (e->obfu_tcp_port != 0)
        ed2k_taglist_add_uint(t, ED2K_ST_TCPPORTOBFUSCATION, ED2K_TAG_UINT16, e->obfu_tcp_port);
    if (e->obfu_udp_port != 0)
        ed2k_taglist_add_uint(t, ED2K_ST_UDPPORTOBFUSCATION, ED2K_TAG_UINT16, e->obfu_udp_port);
    if (e->tcp_flags != 0)
        ed2k_taglist_add_named_uint(t, ED2K_SERVERMET_TAG_TCPFLAGS, ED2K_TAG_UINT32, e->tcp_flags);
    if (e->is_static)
        ed2k_taglist_add_named_uint(t, ED2K_SERVERMET_TAG_STATIC, ED2K_TAG_UINT8, 1);
    ed2k_write_u32(out, e->ip);
    ed2k_write_u16(out, e->port);
    int rc = ed2k_taglist_write(out, t, ED2K_TAGCOUNT_U32, ED2K_TAGFORM_CLASSIC, err);
    ed2k_taglist_free(t);
    return rc;
}

int
ed2k_servermet_write(struct evbuffer *out, const ed2k_server_entry_t *s, size_t n,
                     mt_error_t **err)
{
    if (n > UINT32_MAX) {
        mt_error_set(err, MT_ERR_TOO_LARGE, "server.met: %zu servers are too many", n);
        return -1;
    }
    /* Check everything first, so that a refusal appends nothing. The
     * duplicate check works on copies whose empty dynip is NULL, as the
     * reader would see them. */
    ed2k_server_entry_t *keys = xcalloc(n + 1, sizeof *keys);
    addrset_t seen;
    addrset_init(&seen);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (check_entry(&s[i], i, err) != 0) {
            rc = -1;
            break;
        }
        keys[i].ip = s[i].ip;
        keys[i].port = s[i].port;
        keys[i].dynip = s[i].dynip != NULL && *s[i].dynip != '\0' ? s[i].dynip : NULL;
        if (!addrset_add(&seen, keys, i)) {
            mt_error_set(err, MT_ERR_INVALID, "server %zu: the same address as an earlier one",
                         i + 1);
            rc = -1;
        }
    }
    free(seen.slots);
    free(keys); /* the dynip strings are borrowed */
    if (rc != 0) {
        mt_error_prefix(err, "server.met");
        return -1;
    }
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        abort();
    ed2k_write_u8(b, ED2K_SERVERMET_VERSION);
    ed2k_write_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        if (write_entry(b, &s[i], err) != 0) {
            mt_error_prefix(err, "server.met: server %zu", i + 1);
            rc = -1;
            break;
        }
    }
    if (rc == 0)
        evbuffer_add_buffer(out, b);
    evbuffer_free(b);
    return rc;
}

static bool
str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

bool
ed2k_server_entry_equal(const ed2k_server_entry_t *a, const ed2k_server_entry_t *b)
{
    return a->ip == b->ip && a->port == b->port && str_eq(a->dynip, b->dynip)
        && str_eq(a->name, b->name) && str_eq(a->description, b->description)
        && str_eq(a->version, b->version) && str_eq(a->aux_ports, b->aux_ports)
        && a->aux_port == b->aux_port && a->users == b->users && a->files == b->files
        && a->max_users == b->max_users && a->soft_files == b->soft_files
        && a->hard_files == b->hard_files && a->lowid_users == b->lowid_users
        && a->ping_ms == b->ping_ms && a->fails == b->fails && a->last_ping == b->last_ping
        && a->preference == b->preference && a->udp_flags == b->udp_flags
        && a->tcp_flags == b->tcp_flags && a->is_static == b->is_static
        && a->obfu_tcp_port == b->obfu_tcp_port && a->obfu_udp_port == b->obfu_udp_port
        && a->udp_key == b->udp_key && a->udp_key_ip == b->udp_key_ip;
}

void
ed2k_server_entry_clear(ed2k_server_entry_t *e)
{
    if (e == NULL)
        return;
    free(e->dynip);
    free(e->name);
    free(e->description);
    free(e->version);
    free(e->aux_ports);
    memset(e, 0, sizeof *e);
}

void
ed2k_server_entries_free(ed2k_server_entry_t *s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        ed2k_server_entry_clear(&s[i]);
    free(s);
}

/* parse_ipv4: a dotted quad in eD2K byte order (§0). */
static int
parse_ipv4(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        unsigned x = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            x = x * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (digits == 0 || x > 255)
            return -1;
        v |= (uint32_t)x << (8 * part);
        if (part < 3 && *s++ != '.')
            return -1;
    }
    if (*s != '\0')
        return -1;
    *ip = v;
    return 0;
}

int
ed2k_server_entry_from_link(const ed2k_link_t *l, ed2k_server_entry_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    if (l->type != ED2K_LINK_SERVER || l->host == NULL || l->port == 0) {
        mt_error_set(err, MT_ERR_INVALID, "not a server link");
        return -1;
    }
    out->port = l->port;
    if (parse_ipv4(l->host, &out->ip) != 0) {
        if (!is_host_name(l->host)) {
            mt_error_set(err, MT_ERR_INVALID, "server host \"%s\" is not a host name", l->host);
            return -1;
        }
        out->dynip = xstrdup(l->host);
    }
    return 0;
}
