/* nodesdat.c: reading and writing nodes.dat (nodesdat.h, §8.2). */
#include "config.h"

#include "ed2k/nodesdat.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* read_header: the version and whether it is a bootstrap file; the reader
 * is left at the count. */
static int
read_header(ed2k_reader_t *r, uint32_t *version, bool *bootstrap, mt_error_t **err)
{
    uint32_t zero, edition;
    *bootstrap = false;
    if (ed2k_read_u32(r, &zero) != 0 || (zero == 0 && ed2k_read_u32(r, version) != 0)) {
        mt_error_set(err, MT_ERR_PROTOCOL, "nodes.dat: shorter than its header");
        return -1;
    }
    if (zero != 0) {
        mt_error_set(err, MT_ERR_UNSUPPORTED, "nodes.dat: version 0 files are not read");
        return -1;
    }
    if (*version == 3) {
        if (ed2k_read_u32(r, &edition) != 0 || edition != 1) {
            mt_error_set(err, MT_ERR_UNSUPPORTED, "nodes.dat: version 3 but not a bootstrap file");
            return -1;
        }
        *bootstrap = true;
    } else if (*version != 1 && *version != 2) {
        mt_error_set(err, MT_ERR_UNSUPPORTED, "nodes.dat: unknown version %u", *version);
        return -1;
    }
    return 0;
}

/* read_entry: one entry; the version 2 fields only in a version 2 file. */
static int
read_entry(ed2k_reader_t *r, uint32_t version, kad_node_t *e)
{
    uint8_t id[16], verified = 0;
    memset(e, 0, sizeof *e);
    if (ed2k_read_bytes(r, id, sizeof id) != 0 || ed2k_read_u32(r, &e->c.ip) != 0 ||
        ed2k_read_u16(r, &e->c.udp_port) != 0 || ed2k_read_u16(r, &e->c.tcp_port) != 0 ||
        ed2k_read_u8(r, &e->c.version) != 0)
        return -1;
    if (version == 2 && (ed2k_read_u32(r, &e->udp_key) != 0 ||
                         ed2k_read_u32(r, &e->udp_key_ip) != 0 || ed2k_read_u8(r, &verified) != 0))
        return -1;
    kad_id_from_wire(&e->c.id, id);
    e->verified = verified != 0;
    return 0;
}

int
kad_nodesdat_parse(const uint8_t *p, size_t len, kad_node_t **out, size_t *n, bool *bootstrap,
                   mt_error_t **err)
{
    *out = NULL;
    *n = 0;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint32_t version, count;
    if (read_header(&r, &version, bootstrap, err) != 0)
        return -1;
    if (ed2k_read_u32(&r, &count) != 0)
        count = 0; /* a header alone: no contacts */
    size_t entry_len = version == 2 ? KAD_NODESDAT_V2_ENTRY_LEN : KAD_NODESDAT_V1_ENTRY_LEN;
    size_t room = ed2k_reader_remaining(&r) / entry_len;
    if (room > count)
        room = count;
    if (room > KAD_NODESDAT_MAX)
        room = KAD_NODESDAT_MAX;
    kad_node_t *v = xcalloc(room > 0 ? room : 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < room; i++) {
        if (read_entry(&r, version, &v[m]) != 0)
            break;
        if (v[m].c.version >= KAD_VERSION_MIN && v[m].c.ip != 0 && v[m].c.udp_port != 0)
            m++;
    }
    *out = v;
    *n = m;
    return 0;
}

void
kad_nodesdat_write(struct evbuffer *out, const kad_node_t *nodes, size_t n)
{
    ed2k_write_u32(out, 0);
    ed2k_write_u32(out, 2);
    ed2k_write_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const kad_node_t *e = &nodes[i];
        uint8_t id[16];
        kad_id_to_wire(&e->c.id, id);
        ed2k_write_bytes(out, id, sizeof id);
        ed2k_write_u32(out, e->c.ip);
        ed2k_write_u16(out, e->c.udp_port);
        ed2k_write_u16(out, e->c.tcp_port);
        ed2k_write_u8(out, e->c.version);
        ed2k_write_u32(out, e->udp_key);
        ed2k_write_u32(out, e->udp_key_ip);
        ed2k_write_u8(out, e->verified ? 1 : 0);
    }
}
