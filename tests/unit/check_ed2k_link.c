/* check_ed2k_link.c: unit tests for lib/ed2k/link: parsing what eMule, aMule
 * and rhash write, every rejection with its message, formatting, round trips. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/hash.h"
#include "ed2k/link.h"
#include "util/error.h"
#include "util/xalloc.h"

#define H_9728000 "fc21d9af828f92a8df64beac3357425d"
#define P_9728000 "d7def262a127cd79096a108e7a9fc138:31d6cfe0d16ae931b73c59d7e0c089c0"
#define A_9728000 "5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7B"
#define H_A "bde52cb31de33e46245e05fbdbd6fb24"

static ed2k_link_t *
parse_ok(const char *text)
{
    ed2k_link_t *l = NULL;
    mt_error_t *err = NULL;
    int rc = ed2k_link_parse(text, &l, &err);
    ck_assert_msg(rc == 0, "\"%s\" rejected: %s", text, err ? err->message : "?");
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(l);
    return l;
}

static void
parse_fails(const char *text, int code, const char *needle)
{
    ed2k_link_t *l = NULL;
    mt_error_t *err = NULL;
    ck_assert_msg(ed2k_link_parse(text, &l, &err) == -1, "\"%s\" accepted", text);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err->message, needle) != NULL, "\"%s\": message \"%s\" lacks \"%s\"",
                  text, err->message, needle);
    ck_assert_int_eq(err->code, code);
    mt_error_free(err);
}

static void
hex_eq(const uint8_t *h, const char *hex)
{
    char out[ED2K_HASH_HEX_LEN + 1];
    ed2k_hash_to_hex(h, out);
    ck_assert_str_eq(out, hex);
}

START_TEST(test_rhash_and_alcc_links)
{
    /* §7: what rhash --ed2k-link and alcc -p print. */
    ed2k_link_t *l = parse_ok("ed2k://|file|z_9728000.bin|9728000|" H_9728000
                              "|h=5d3n4hqhiumq7iu7a5qlpli6rhswor7b|/");
    ck_assert_int_eq(l->type, ED2K_LINK_FILE);
    ck_assert_str_eq(l->name, "z_9728000.bin");
    ck_assert(l->size == 9728000);
    hex_eq(l->hash, H_9728000);
    ck_assert(l->has_aich);
    char b32[ED2K_AICH_B32_LEN + 1];
    ed2k_aich_to_base32(l->aich, b32);
    ck_assert_str_eq(b32, A_9728000);
    ck_assert_ptr_null(l->part_hashes);
    ck_assert_uint_eq(l->n_sources, 0);
    ed2k_link_free(l);

    l = parse_ok("ed2k://|file|z_9728000.bin|9728000|" H_9728000 "|p=" P_9728000 "|/");
    ck_assert_uint_eq(l->n_part_hashes, 2);
    hex_eq(l->part_hashes[0], "d7def262a127cd79096a108e7a9fc138");
    hex_eq(l->part_hashes[1], "31d6cfe0d16ae931b73c59d7e0c089c0");
    ck_assert(!l->has_aich);
    ed2k_link_free(l);

    /* eMule writes the hash in upper case. */
    l = parse_ok("ed2k://|file|a.txt|1|BDE52CB31DE33E46245E05FBDBD6FB24|/");
    hex_eq(l->hash, H_A);
    ed2k_link_free(l);
    ed2k_link_free(NULL);
}
END_TEST

START_TEST(test_sources)
{
    ed2k_link_t *l = parse_ok(
        "ed2k://|file|a.txt|1|" H_A "|/|sources,1.2.3.4:4662,peer.example.org:4663:128:"
        "B0BF7708D00E61CB3874617A2EA06F18, ,5.6.7.8:1:1|/");
    ck_assert_uint_eq(l->n_sources, 3);
    ck_assert_str_eq(l->sources[0].host, "1.2.3.4");
    ck_assert_uint_eq(l->sources[0].port, 4662);
    ck_assert_uint_eq(l->sources[0].cryptopts, 0);
    ck_assert(!l->sources[0].has_userhash);
    ck_assert_str_eq(l->sources[1].host, "peer.example.org");
    ck_assert_uint_eq(l->sources[1].port, 4663);
    ck_assert_uint_eq(l->sources[1].cryptopts, 128);
    ck_assert(l->sources[1].has_userhash);
    hex_eq(l->sources[1].userhash, "b0bf7708d00e61cb3874617a2ea06f18");
    ck_assert_str_eq(l->sources[2].host, "5.6.7.8");
    ck_assert_uint_eq(l->sources[2].port, 1);
    ck_assert_uint_eq(l->sources[2].cryptopts, 1);
    char *s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|file|a.txt|1|" H_A "|/|sources,1.2.3.4:4662,peer.example.org:"
                        "4663:128:b0bf7708d00e61cb3874617a2ea06f18,5.6.7.8:1:1|/");
    free(s);
    ed2k_link_free(l);

    /* aMule (CreateED2kLink) writes the sources after the "/". */
    l = parse_ok("ed2k://|file|a.txt|1|" H_A "|h=" A_9728000 "|/|sources,10.0.0.1:65535|/");
    ck_assert_uint_eq(l->n_sources, 1);
    ck_assert_uint_eq(l->sources[0].port, 65535);
    ck_assert(l->has_aich);
    ed2k_link_free(l);
}
END_TEST

START_TEST(test_names)
{
    static const char *const cases[][2] = {
        { "%C3%A9t%C3%A9.txt", "\xc3\xa9t\xc3\xa9.txt" },   /* UTF-8 */
        { "%E9t%E9.txt", "\xc3\xa9t\xc3\xa9.txt" },         /* Latin-1 fallback */
        { "%EF%BB%BFbom.txt", "bom.txt" },                  /* BOM dropped */
        { "a%2Fb%5Cc/d\\e.txt", "a_b_c_d_e.txt" },          /* no path separators */
        { "a%0Ab%09c%7Fd%00e", "abcde" },                   /* no control characters */
        { "My%20File%20%25%201.avi", "My File % 1.avi" },
        { "  spaced name.bin  ", "spaced name.bin" },       /* field whitespace trimmed */
        { "%20lead", " lead" },                             /* escaped space is kept */
        { "..%2Fetc%2Fpasswd", ".._etc_passwd" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = xasprintf("ed2k://|file|%s|1|" H_A "|/", cases[i][0]);
        ed2k_link_t *l = parse_ok(text);
        ck_assert_str_eq(l->name, cases[i][1]);
        ed2k_link_free(l);
        free(text);
    }
    parse_fails("ed2k://|file|a%zz.txt|1|" H_A "|/", MT_ERR_INVALID,
                "bad percent escape \"%zz\" in file name");
    parse_fails("ed2k://|file|a%4|1|" H_A "|/", MT_ERR_INVALID, "bad percent escape \"%4\"");
    parse_fails("ed2k://|file|a%|1|" H_A "|/", MT_ERR_INVALID, "bad percent escape \"%\"");
    parse_fails("ed2k://|file||1|" H_A "|/", MT_ERR_INVALID, "file name is empty");
    parse_fails("ed2k://|file|%01%02|1|" H_A "|/", MT_ERR_INVALID, "file name is empty");
    parse_fails("ed2k://|file|%2E%2E|1|" H_A "|/", MT_ERR_INVALID, "file name \"..\" is not allowed");
    parse_fails("ed2k://|file|.|1|" H_A "|/", MT_ERR_INVALID, "file name \".\" is not allowed");
}
END_TEST

START_TEST(test_tolerances)
{
    /* Whitespace around the link and fields, upper-case scheme and type,
     * a final "|" without "/", unknown fields. */
    ed2k_link_t *l = parse_ok("  \tED2K://|FILE| a.txt | 1 | " H_A " |foo=bar||/ \r\n");
    ck_assert_str_eq(l->name, "a.txt");
    ck_assert(l->size == 1);
    ed2k_link_free(l);
    l = parse_ok("ed2k://|file|a.txt|1|" H_A "|");
    ck_assert_str_eq(l->name, "a.txt");
    ed2k_link_free(l);
    /* 2^38 is the largest size. */
    l = parse_ok("ed2k://|file|big.iso|274877906944|" H_A "|/");
    ck_assert(l->size == ED2K_MAX_FILE_SIZE);
    ed2k_link_free(l);
    /* A one-part file's p= may repeat the file hash (not stored). */
    l = parse_ok("ed2k://|file|a.txt|1|" H_A "|p=" H_A "|/");
    ck_assert_uint_eq(l->n_part_hashes, 0);
    ed2k_link_free(l);
    /* s= HTTP sources are kept. */
    l = parse_ok("ed2k://|file|a.txt|1|" H_A "|s=http://example.org/a.txt|/");
    ck_assert_uint_eq(l->n_http_sources, 1);
    ck_assert_str_eq(l->http_sources[0], "http://example.org/a.txt");
    ed2k_link_free(l);
}
END_TEST

START_TEST(test_errors)
{
    parse_fails("http://example.org/", MT_ERR_INVALID, "must start with \"ed2k://\"");
    parse_fails("", MT_ERR_INVALID, "must start with \"ed2k://\"");
    parse_fails("ed2k://file|a|1|" H_A "|/", MT_ERR_INVALID, "expected '|' after \"ed2k://\"");
    parse_fails("ed2k://|foo|x|/", MT_ERR_INVALID, "unknown link type \"foo\"");
    parse_fails("ed2k://||/", MT_ERR_INVALID, "missing link type");
    parse_fails("ed2k://|file|a|1|" H_A, MT_ERR_INVALID, "missing trailing |/");
    parse_fails("ed2k://|file|a|1|" H_A "|/x", MT_ERR_INVALID, "missing trailing |/");
    parse_fails("ed2k://|/", MT_ERR_INVALID, "missing trailing |/");
    parse_fails("ed2k://|file|/", MT_ERR_INVALID, "file link is missing the file name");
    parse_fails("ed2k://|file|a|/", MT_ERR_INVALID, "file link is missing the file size");
    parse_fails("ed2k://|file|a|1|/", MT_ERR_INVALID, "file link is missing the file hash");
    parse_fails("ed2k://|file|a|12a|" H_A "|/", MT_ERR_INVALID, "size is not a number: \"12a\"");
    parse_fails("ed2k://|file|a|-1|" H_A "|/", MT_ERR_INVALID, "size is not a number: \"-1\"");
    parse_fails("ed2k://|file|a||" H_A "|/", MT_ERR_INVALID, "size is not a number: \"\"");
    parse_fails("ed2k://|file|a|0|" H_A "|/", MT_ERR_INVALID, "size must not be 0");
    parse_fails("ed2k://|file|a|274877906945|" H_A "|/", MT_ERR_INVALID,
                "size \"274877906945\" exceeds the maximum");
    parse_fails("ed2k://|file|a|99999999999999999999999|" H_A "|/", MT_ERR_INVALID,
                "exceeds the maximum");
    parse_fails("ed2k://|file|a|1|bde52cb31de33e46245e05fbdbd6fb2|/", MT_ERR_INVALID,
                "hash must be 32 hex digits, not \"bde52cb31de33e46245e05fbdbd6fb2\"");
    parse_fails("ed2k://|file|a|1|bde52cb31de33e46245e05fbdbd6fb24a|/", MT_ERR_INVALID,
                "hash must be 32 hex digits");
    parse_fails("ed2k://|file|a|1|gde52cb31de33e46245e05fbdbd6fb24|/", MT_ERR_INVALID,
                "hash must be 32 hex digits");
    /* p= */
    parse_fails("ed2k://|file|z|9728000|" H_9728000 "|p=d7def262a127cd79096a108e7a9fc138|/",
                MT_ERR_INVALID, "p= lists 1 part hashes, a file of 9728000 bytes has 2");
    parse_fails("ed2k://|file|z|9728000|" H_A "|p=" P_9728000 "|/", MT_ERR_INVALID,
                "p= part hashes do not match the file hash");
    parse_fails("ed2k://|file|z|9728000|" H_9728000 "|p=d7def262a127cd79096a108e7a9fc138:xyz|/",
                MT_ERR_INVALID, "p= part hash 2 must be 32 hex digits");
    parse_fails("ed2k://|file|z|9728000|" H_9728000 "|p=|/", MT_ERR_INVALID,
                "p= part hash 1 must be 32 hex digits");
    parse_fails("ed2k://|file|z|9728000|" H_9728000 "|p=" P_9728000 "|p=" P_9728000 "|/",
                MT_ERR_INVALID, "duplicate p= field");
    parse_fails("ed2k://|file|a|1|" H_A "|p=" H_9728000 "|/", MT_ERR_INVALID,
                "p= lists 1 part hashes, but a file of 1 bytes has none");
    /* h= */
    parse_fails("ed2k://|file|a|1|" H_A "|h=5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7|/", MT_ERR_INVALID,
                "h= must be 32 base32 characters");
    parse_fails("ed2k://|file|a|1|" H_A "|h=5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR71|/", MT_ERR_INVALID,
                "h= must be 32 base32 characters");
    parse_fails("ed2k://|file|a|1|" H_A "|h=" A_9728000 "|h=" A_9728000 "|/", MT_ERR_INVALID,
                "duplicate h= field");
    /* s= */
    parse_fails("ed2k://|file|a|1|" H_A "|s=|/", MT_ERR_INVALID, "s= URL is empty");
    parse_fails("ed2k://|file|a|1|" H_A "|s=http://x/a b|/", MT_ERR_INVALID,
                "contains a space or control character");
    /* sources */
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:0|/", MT_ERR_INVALID,
                "source \"1.2.3.4:0\": port must be 1..65535, not \"0\"");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:65536|/", MT_ERR_INVALID,
                "port must be 1..65535, not \"65536\"");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:46x2|/", MT_ERR_INVALID,
                "port must be 1..65535");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4|/", MT_ERR_INVALID,
                "source \"1.2.3.4\" has no port");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,:4662|/", MT_ERR_INVALID,
                "has an empty address");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.256:4662|/", MT_ERR_INVALID,
                "invalid address \"1.2.3.256\"");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,bad_host!:4662|/", MT_ERR_INVALID,
                "invalid address");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:4662:128|/", MT_ERR_INVALID,
                "crypt option 0x80 needs a user hash");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:4662:256|/", MT_ERR_INVALID,
                "crypt options must be 0..255");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:4662:128:abc|/", MT_ERR_INVALID,
                "user hash must be 32 hex digits");
    parse_fails("ed2k://|file|a|1|" H_A "|/|sources,1.2.3.4:1:2:" H_A ":5|/", MT_ERR_INVALID,
                "too many ':' fields");
    /* server and serverlist */
    parse_fails("ed2k://|server|1.2.3.4|0|/", MT_ERR_INVALID, "port must be 1..65535, not \"0\"");
    parse_fails("ed2k://|server|1.2.3.4|70000|/", MT_ERR_INVALID, "port must be 1..65535");
    parse_fails("ed2k://|server|1.2.3.4|/", MT_ERR_INVALID, "server link is missing the port");
    parse_fails("ed2k://|server||4661|/", MT_ERR_INVALID, "server link is missing the host");
    parse_fails("ed2k://|server|1.2.3.4|4661|x|/", MT_ERR_INVALID,
                "unexpected field \"x\" after the server port");
    parse_fails("ed2k://|server|999.1.1.1|4661|/", MT_ERR_INVALID,
                "server host \"999.1.1.1\" is neither an IPv4 address nor a host name");
    parse_fails("ed2k://|server|-bad-.example|4661|/", MT_ERR_INVALID, "is neither");
    parse_fails("ed2k://|serverlist||/", MT_ERR_INVALID, "server list link is missing the URL");
    parse_fails("ed2k://|serverlist|ftp://example.org/server.met|/", MT_ERR_INVALID,
                "must start with http:// or https://");
    parse_fails("ed2k://|serverlist|http://x/%0a|/", MT_ERR_INVALID, "control character");
    parse_fails("ed2k://|serverlist|http://x/%g0|/", MT_ERR_INVALID,
                "bad percent escape \"%g0\" in server list URL");
}
END_TEST

START_TEST(test_server_links)
{
    ed2k_link_t *l = parse_ok("ed2k://|server|176.103.48.36|4184|/");
    ck_assert_int_eq(l->type, ED2K_LINK_SERVER);
    ck_assert_str_eq(l->host, "176.103.48.36");
    ck_assert_uint_eq(l->port, 4184);
    char *s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|server|176.103.48.36|4184|/");
    free(s);
    ed2k_link_free(l);

    l = parse_ok("ED2K://|Server|ed2k.example.net|4661|/");
    ck_assert_str_eq(l->host, "ed2k.example.net");
    ed2k_link_free(l);

    l = parse_ok("ed2k://|serverlist|http://upd.example.org/server.met|/");
    ck_assert_int_eq(l->type, ED2K_LINK_SERVERLIST);
    ck_assert_str_eq(l->url, "http://upd.example.org/server.met");
    s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|serverlist|http://upd.example.org/server.met|/");
    free(s);
    ed2k_link_free(l);

    /* aMule percent-decodes the URL; '|' inside it is part of the URL. */
    l = parse_ok("ed2k://|serverlist|http%3A%2F%2Fx.example%2Fa%20b.met|/");
    ck_assert_str_eq(l->url, "http://x.example/a b.met");
    s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|serverlist|http://x.example/a%20b.met|/");
    free(s);
    ed2k_link_free(l);
    l = parse_ok("ed2k://|serverlist|https://x.example/?a|b|/");
    ck_assert_str_eq(l->url, "https://x.example/?a|b");
    ed2k_link_free(l);

    /* aMule's tolerances: spaces, a missing final '/', a percent-encoded
     * host (UnescapeHTML), leading zeros in the port (StrToULong). */
    l = parse_ok("  ed2k://| server | 176.103.48.36 | 04184 |  ");
    ck_assert_str_eq(l->host, "176.103.48.36");
    ck_assert_uint_eq(l->port, 4184);
    ed2k_link_free(l);
    l = parse_ok("ed2k://|server|ed2k%2Eexample%2enet|4661|/");
    ck_assert_str_eq(l->host, "ed2k.example.net");
    ed2k_link_free(l);
    parse_fails("ed2k://|server|1.2.3.4|46a1|/", MT_ERR_INVALID, "port must be 1..65535, not "
                "\"46a1\"");
    parse_fails("ed2k://|server|1.2.3.4|-1|/", MT_ERR_INVALID, "port must be 1..65535");
    parse_fails("ed2k://|server|1.2.3|4661|/", MT_ERR_INVALID, "server host \"1.2.3\" is "
                "neither");
    parse_fails("ed2k://|server|1.2.3.4:4661|/", MT_ERR_INVALID, "missing the port");
    parse_fails("ed2k://|server|%20|4661|/", MT_ERR_INVALID, "is neither");
    parse_fails("ed2k://|server| |4661|/", MT_ERR_INVALID, "server link is missing the host");
    parse_fails("ed2k://|server|1.2.3.4|4661/", MT_ERR_INVALID, "missing trailing |/");
    parse_fails("ed2k://|serverlist|/server.met|/", MT_ERR_INVALID,
                "must start with http:// or https://");
    parse_fails("ed2k://|serverlist|http://|/", MT_ERR_INVALID,
                "must start with http:// or https://");
}
END_TEST

/* eMule's nodeslist links: a nodes.dat URL for Kad, read as serverlist's. */
START_TEST(test_nodeslist_links)
{
    ed2k_link_t *l = parse_ok("ed2k://|nodeslist|http://upd.example.org/nodes.dat|/");
    ck_assert_int_eq(l->type, ED2K_LINK_NODESLIST);
    ck_assert_str_eq(l->url, "http://upd.example.org/nodes.dat");
    ck_assert_ptr_null(l->host);
    char *s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|nodeslist|http://upd.example.org/nodes.dat|/");
    free(s);
    ed2k_link_t *again = parse_ok("ed2k://|nodeslist|http://upd.example.org/nodes.dat|/");
    ck_assert(ed2k_link_equal(l, again));
    ed2k_link_free(again);
    ed2k_link_free(l);

    /* any case, spaces, a missing '/', percent-encoding, '|' in the URL */
    l = parse_ok("  ED2K://| NodesList | HTTPS%3A%2F%2Fx.example%2Fa%20b.dat |  ");
    ck_assert_int_eq(l->type, ED2K_LINK_NODESLIST);
    ck_assert_str_eq(l->url, "HTTPS://x.example/a b.dat");
    s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|nodeslist|HTTPS://x.example/a%20b.dat|/");
    free(s);
    ed2k_link_free(l);
    l = parse_ok("ed2k://|nodeslist|http://x.example/?a|b|/");
    ck_assert_str_eq(l->url, "http://x.example/?a|b");
    ed2k_link_free(l);

    parse_fails("ed2k://|nodeslist||/", MT_ERR_INVALID, "nodes list link is missing the URL");
    parse_fails("ed2k://|nodeslist|/", MT_ERR_INVALID, "nodes list link is missing the URL");
    parse_fails("ed2k://|nodeslist|ftp://x.example/nodes.dat|/", MT_ERR_INVALID,
                "nodes list URL \"ftp://x.example/nodes.dat\" must start with http:// or "
                "https://");
    parse_fails("ed2k://|nodeslist|file:///etc/passwd|/", MT_ERR_INVALID,
                "must start with http:// or https://");
    parse_fails("ed2k://|nodeslist|https://|/", MT_ERR_INVALID,
                "must start with http:// or https://");
    parse_fails("ed2k://|nodeslist|http://x/%0d|/", MT_ERR_INVALID,
                "nodes list URL contains a control character");
    parse_fails("ed2k://|nodeslist|http://x/%zz|/", MT_ERR_INVALID, "nodes list URL");
    parse_fails("ed2k://|nodeslist|http://x/nodes.dat", MT_ERR_INVALID, "missing trailing |/");

    /* not a server link */
    ed2k_server_link_t sl;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_server_link_parse("ed2k://|nodeslist|http://x.example/n.dat|/", &sl,
                                            &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "nodes list link is not a server link"));
    mt_error_free(err);
}
END_TEST

START_TEST(test_server_link_api)
{
    ed2k_server_link_t sl;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_server_link_parse("ed2k://|server|ed2k.example.net|4661|/", &sl, &err),
                     0);
    ck_assert_int_eq(sl.kind, ED2K_SERVER_LINK_SERVER);
    ck_assert_str_eq(sl.host, "ed2k.example.net");
    ck_assert_uint_eq(sl.port, 4661);
    ck_assert_ptr_null(sl.url);
    ed2k_server_link_clear(&sl);
    ck_assert_ptr_null(sl.host);
    ck_assert_int_eq(ed2k_server_link_parse("ed2k://|serverlist|http://x.example/s%20.met|/", &sl,
                                            &err),
                     0);
    ck_assert_int_eq(sl.kind, ED2K_SERVER_LINK_LIST);
    ck_assert_str_eq(sl.url, "http://x.example/s .met");
    ck_assert_ptr_null(sl.host);
    ed2k_server_link_clear(&sl);
    ck_assert_int_eq(ed2k_server_link_parse("ed2k://|file|a.txt|1|" H_A "|/", &sl, &err), -1);
    ck_assert_str_eq(err->message, "a file link is not a server link");
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_ptr_null(sl.host);
    mt_error_clear(&err);
    ck_assert_int_eq(ed2k_server_link_parse("ed2k://|server|1.2.3.4|0|/", &sl, &err), -1);
    ck_assert_str_eq(err->message, "port must be 1..65535, not \"0\"");
    mt_error_clear(&err);
    ck_assert_int_eq(ed2k_server_link_parse("ed2k://|bogus|1|/", &sl, &err), -1);
    ck_assert_str_eq(err->message, "unknown link type \"bogus\"");
    mt_error_clear(&err);
    ed2k_server_link_clear(NULL);
}
END_TEST

START_TEST(test_format_from_hash)
{
    uint8_t *zeros = xcalloc(1, 9728000);
    ed2k_hash_result_t r;
    ed2k_hash_memory(zeros, 9728000, &r);
    free(zeros);
    ed2k_link_t *l = ed2k_link_from_hash("z_9728000.bin", &r);
    ed2k_hash_result_clear(&r);
    char *s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|file|z_9728000.bin|9728000|" H_9728000 "|p=" P_9728000
                        "|h=" A_9728000 "|/");
    ed2k_link_t *back = parse_ok(s);
    ck_assert(ed2k_link_equal(l, back));
    free(s);
    ed2k_link_free(back);

    ed2k_link_add_source(l, "192.0.2.7", 4662);
    ed2k_link_add_source(l, "peer.example.org", 1);
    s = ed2k_link_format(l);
    ck_assert_str_eq(s, "ed2k://|file|z_9728000.bin|9728000|" H_9728000 "|p=" P_9728000
                        "|h=" A_9728000 "|/|sources,192.0.2.7:4662,peer.example.org:1|/");
    back = parse_ok(s);
    ck_assert(ed2k_link_equal(l, back));
    ed2k_link_free(back);
    free(s);
    ed2k_link_free(l);
}
END_TEST

START_TEST(test_format_escaping)
{
    /* eMule's encoding: '%', space, controls and bytes >= 0x7F as %XX upper
     * case, plus '|'; other ASCII literal. */
    ed2k_link_t l;
    memset(&l, 0, sizeof l);
    l.type = ED2K_LINK_FILE;
    l.name = (char *)"a b%c|\xc3\xa9\x01\x7f~(x)[1]&+.txt";
    l.size = 5;
    memset(l.hash, 0xAB, sizeof l.hash);
    char *s = ed2k_link_format(&l);
    ck_assert_str_eq(s, "ed2k://|file|a%20b%25c%7C%C3%A9%01%7F~(x)[1]&+.txt|5|"
                        "abababababababababababababababab|/");
    ed2k_link_t *back = parse_ok(s);
    /* The control characters are dropped on the way back in. */
    ck_assert_str_eq(back->name, "a b%c|\xc3\xa9~(x)[1]&+.txt");
    ed2k_link_free(back);
    free(s);
}
END_TEST

/* Canonical links survive parse + format unchanged; others become their
 * canonical form, which parses to an equal link. */
START_TEST(test_round_trips)
{
    static const char *const canon[] = {
        "ed2k://|file|a.txt|1|" H_A "|/",
        "ed2k://|file|My%20File%20%25%201.avi|123456789012|" H_A "|/",
        "ed2k://|file|%C3%A9t%C3%A9.txt|9728000|" H_9728000 "|p=" P_9728000 "|h=" A_9728000 "|/",
        "ed2k://|file|x|1|" H_A "|s=http://example.org/x|/|sources,1.2.3.4:4662,h.example:5:1|/",
        "ed2k://|file|x|1|" H_A "|/|sources,1.2.3.4:4662:129:" H_A "|/",
        "ed2k://|server|10.1.2.3|4661|/",
        "ed2k://|server|ed2k.example.net|65535|/",
        "ed2k://|serverlist|http://example.org/server.met|/",
    };
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        ed2k_link_t *l = parse_ok(canon[i]);
        char *s = ed2k_link_format(l);
        ck_assert_str_eq(s, canon[i]);
        ed2k_link_t *back = parse_ok(s);
        ck_assert(ed2k_link_equal(l, back));
        ed2k_link_free(back);
        ed2k_link_free(l);
        free(s);
    }
    static const char *const other[][2] = {
        { " ED2K://|FILE|%E9t%E9.txt|1|BDE52CB31DE33E46245E05FBDBD6FB24|junk|",
          "ed2k://|file|%C3%A9t%C3%A9.txt|1|" H_A "|/" },
        { "ed2k://|file|a b.txt|1|" H_A "|H=5d3n4hqhiumq7iu7a5qlpli6rhswor7b|/",
          "ed2k://|file|a%20b.txt|1|" H_A "|h=" A_9728000 "|/" },
        { "ed2k://|file|x|1|" H_A "|/|sources,1.2.3.4:4662:0|/",
          "ed2k://|file|x|1|" H_A "|/|sources,1.2.3.4:4662|/" },
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        ed2k_link_t *l = parse_ok(other[i][0]);
        char *s = ed2k_link_format(l);
        ck_assert_str_eq(s, other[i][1]);
        ed2k_link_t *back = parse_ok(s);
        ck_assert(ed2k_link_equal(l, back));
        ed2k_link_free(back);
        ed2k_link_free(l);
        free(s);
    }
    /* Different links are not equal. */
    ed2k_link_t *a = parse_ok("ed2k://|file|a.txt|1|" H_A "|/");
    ed2k_link_t *b = parse_ok("ed2k://|file|a.txt|2|" H_A "|/");
    ed2k_link_t *c = parse_ok("ed2k://|file|a.txt|1|" H_A "|/|sources,1.2.3.4:1|/");
    ck_assert(!ed2k_link_equal(a, b));
    ck_assert(!ed2k_link_equal(a, c));
    ed2k_link_free(a);
    ed2k_link_free(b);
    ed2k_link_free(c);
}
END_TEST

static Suite *
link_suite(void)
{
    Suite *s = suite_create("ed2k_link");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rhash_and_alcc_links);
    tcase_add_test(tc, test_sources);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_tolerances);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_server_links);
    tcase_add_test(tc, test_server_link_api);
    tcase_add_test(tc, test_nodeslist_links);
    tcase_add_test(tc, test_format_from_hash);
    tcase_add_test(tc, test_format_escaping);
    tcase_add_test(tc, test_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(link_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
