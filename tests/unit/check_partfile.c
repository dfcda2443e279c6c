/* check_partfile.c: unit tests for the part files (daemon/transfer/partfile.h)
 * on real files: round trips, every parser check, crash recovery,
 * verification, completion. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/transfer/partfile.h"
#include "ed2k/aich.h"
#include "ed2k/hash.h"
#include "util/xalloc.h"

#define PS ED2K_PARTSIZE

static char dir[64];
static char incoming[96];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_partfile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(incoming, sizeof incoming, "%s/incoming", dir);
    ck_assert_int_eq(mkdir(incoming, 0755), 0);
}

static void
teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The content of every test download: a byte that depends on its offset. */
static uint8_t
byte_at(uint64_t off)
{
    uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ULL;
    return (uint8_t)(x >> 56);
}

static uint8_t *
make_data(uint64_t size)
{
    uint8_t *d = xmalloc(size);
    for (uint64_t i = 0; i < size; i++)
        d[i] = byte_at(i);
    return d;
}

static char *
path_in(const char *d, const char *name)
{
    return xasprintf("%s/%s", d, name);
}

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* A new download of size bytes whose content is byte_at(); the hash set is
 * given when set_hashset. *hr receives the true hashes. */
static partfile_t *
new_download(uint64_t size, const char *name, bool set_hashset, ed2k_hash_result_t *hr)
{
    uint8_t *data = make_data(size);
    ed2k_hash_memory(data, size, hr);
    free(data);
    mt_error_t *err = NULL;
    partfile_t *pf = pf_create(dir, hr->file_hash, size, name, &err);
    ck_assert_msg(pf != NULL, "pf_create: %s", err ? err->message : "?");
    if (set_hashset) {
        ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr->part_hashes,
                                        hr->n_part_hashes, &err),
                         0);
    }
    return pf;
}

/* Writes the true content of [start, end) in 10,240-byte packets. */
static void
write_range(partfile_t *pf, uint64_t start, uint64_t end)
{
    uint8_t buf[10240];
    for (uint64_t off = start; off < end;) {
        size_t n = end - off < sizeof buf ? (size_t)(end - off) : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = byte_at(off + i);
        mt_error_t *err = NULL;
        /* (ck_assert reports to the runner on every call: keep it out of
         * hot loops) */
        if (pf_write(pf, off, buf, n, &err) != 0)
            ck_abort_msg("pf_write: %s", err ? err->message : "?");
        off += n;
    }
}

/* Writes big ranges faster (one pf_write per 1 MiB). */
static void
write_range_fast(partfile_t *pf, uint64_t start, uint64_t end)
{
    size_t chunk = 1 << 20;
    uint8_t *buf = xmalloc(chunk);
    for (uint64_t off = start; off < end;) {
        size_t n = end - off < chunk ? (size_t)(end - off) : chunk;
        for (size_t i = 0; i < n; i++)
            buf[i] = byte_at(off + i);
        if (pf_write(pf, off, buf, n, NULL) != 0)
            ck_abort_msg("pf_write failed at %llu", (unsigned long long)off);
        off += n;
    }
    free(buf);
}

static pf_verify_result_t
verify(partfile_t *pf, size_t part, bool speculative)
{
    pf_verify_job_t *job = pf_verify_prepare(pf, part, speculative);
    ck_assert_msg(job != NULL, "no verify job for part %zu", part);
    ck_assert_int_eq(pf_verify_run(job), 0);
    pf_verify_result_t r = pf_verify_apply(pf, job);
    pf_verify_job_free(job);
    return r;
}

static void
save(partfile_t *pf)
{
    mt_error_t *err = NULL;
    ck_assert_msg(pf_save_now(pf, &err) == 0, "save: %s", err ? err->message : "?");
    ck_assert(!pf_is_dirty(pf));
}

static partfile_t *
reload(partfile_t *pf)
{
    char *met = xstrdup(pf_met_path(pf));
    pf_free(pf);
    mt_error_t *err = NULL;
    partfile_t *l = pf_load(met, &err);
    ck_assert_msg(l != NULL, "pf_load: %s", err ? err->message : "?");
    free(met);
    return l;
}

static void
check_disk_bytes(const char *path, uint64_t start, uint64_t end)
{
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    size_t chunk = 1 << 20;
    uint8_t *buf = xmalloc(chunk);
    for (uint64_t off = start; off < end;) {
        size_t n = end - off < chunk ? (size_t)(end - off) : chunk;
        if (pread(fd, buf, n, (off_t)off) != (ssize_t)n)
            ck_abort_msg("short read of %s at %llu", path, (unsigned long long)off);
        for (size_t i = 0; i < n; i++)
            if (buf[i] != byte_at(off + i))
                ck_abort_msg("%s: byte %llu differs", path, (unsigned long long)(off + i));
        off += n;
    }
    free(buf);
    close(fd);
}

/* ------------------------------------------------------------------------ */

START_TEST(test_round_trip)
{
    ed2k_hash_result_t hr;
    const uint64_t size = 2 * PS + 5000; /* 3 parts */
    partfile_t *pf = new_download(size, "Some Film (2001).mkv", true, &hr);
    ck_assert_uint_eq(pf_size(pf), size);
    ck_assert_str_eq(pf_name(pf), "Some Film (2001).mkv");
    ck_assert_mem_eq(pf_hash(pf), hr.file_hash, 16);
    ck_assert(exists(pf_data_path(pf)));
    ck_assert(exists(pf_met_path(pf)));
    char hex[33];
    ed2k_hash_to_hex(hr.file_hash, hex);
    char *want = xasprintf("%s/%s.part.met", dir, hex);
    ck_assert_str_eq(pf_met_path(pf), want);
    free(want);
    struct stat st;
    ck_assert_int_eq(stat(pf_data_path(pf), &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)size);
    ck_assert_uint_gt(pf_added_at(pf), 0);

    write_range(pf, 100, 50000);
    write_range(pf, PS + 7, PS + 20000);
    uint8_t aich[20];
    memset(aich, 0xAB, sizeof aich);
    pf_set_aich_root(pf, aich);
    ck_assert_int_eq(pf_set_category(pf, "films", NULL), 0);
    pf_set_priority(pf, -3);
    ck_assert_int_eq(pf_set_state(pf, PF_STATE_PAUSED), 0);
    pf_set_added_at(pf, 1700000000);
    pf_set_completed_at(pf, 0);
    ck_assert_int_eq(pf_set_added_by(pf, "sonarr \xc3\xa9", NULL), 0);
    ck_assert_int_eq(pf_set_added_via(pf, "qbit-api", NULL), 0);
    ck_assert_ptr_null(pf_download_id(pf)); /* the download layer gives one */
    ck_assert_int_eq(pf_set_download_id(pf, "0123456789ABCDEF0123456789abcdef"), -1);
    ck_assert_int_eq(pf_set_download_id(pf, "0123456789abcdef0123456789abcde"), -1);
    ck_assert_int_eq(pf_set_download_id(pf, "0123456789abcdef0123456789abcdef"), 0);
    pf_add_downloaded_bytes(pf, 49900);
    pf_add_downloaded_bytes(pf, 19993);
    pf_set_uploaded_bytes(pf, 1ULL << 40);
    uint8_t uh[16];
    memset(uh, 0x11, sizeof uh);
    ck_assert_int_eq(pf_add_source(pf, 0x01020304, 4662, uh), 0);
    ck_assert_int_eq(pf_add_source(pf, 0xC0A80001, 4672, NULL), 0);
    ck_assert(pf_is_dirty(pf));
    save(pf);

    pf = reload(pf);
    ck_assert_str_eq(pf_name(pf), "Some Film (2001).mkv");
    ck_assert_uint_eq(pf_size(pf), size);
    ck_assert(pf_has_hashset(pf));
    for (size_t i = 0; i < 3; i++)
        ck_assert_mem_eq(pf_part_hash(pf, i), hr.part_hashes[i], 16);
    ck_assert_mem_eq(pf_aich_root(pf), aich, 20);
    ck_assert_str_eq(pf_category(pf), "films");
    ck_assert_int_eq(pf_priority(pf), -3);
    ck_assert_int_eq(pf_state(pf), PF_STATE_PAUSED);
    ck_assert_int_eq(pf_added_at(pf), 1700000000);
    ck_assert_int_eq(pf_completed_at(pf), 0);
    ck_assert_str_eq(pf_added_by(pf), "sonarr \xc3\xa9");
    ck_assert_str_eq(pf_added_via(pf), "qbit-api");
    ck_assert_str_eq(pf_download_id(pf), "0123456789abcdef0123456789abcdef");
    ck_assert_uint_eq(pf_downloaded_bytes(pf), 49900 + 19993);
    ck_assert_uint_eq(pf_uploaded_bytes(pf), 1ULL << 40);
    ck_assert_uint_eq(pf_source_count(pf), 2);
    pf_source_t s;
    ck_assert(pf_get_source(pf, 0, &s));
    ck_assert_uint_eq(s.ip, 0x01020304);
    ck_assert_uint_eq(s.port, 4662);
    ck_assert(s.has_userhash);
    ck_assert_mem_eq(s.userhash, uh, 16);
    ck_assert(pf_get_source(pf, 1, &s));
    ck_assert_uint_eq(s.ip, 0xC0A80001);
    ck_assert(!s.has_userhash);
    ck_assert(!pf_get_source(pf, 2, &s));
    const rangeset_t *f = pf_filled(pf);
    ck_assert_uint_eq(rangeset_count(f), 2);
    ck_assert(rangeset_contains(f, 100, 50000));
    ck_assert(rangeset_contains(f, PS + 7, PS + 20000));
    ck_assert_uint_eq(pf_done_bytes(pf), 49900 + 19993);
    ck_assert(!pf_is_dirty(pf));
    check_disk_bytes(pf_data_path(pf), 100, 50000);
    check_disk_bytes(pf_data_path(pf), PS + 7, PS + 20000);

    /* The file on disk is the JSON documented in docs/partfile.md. */
    char *text = read_file(pf_met_path(pf), NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"version\": 1"));
    ck_assert_ptr_nonnull(strstr(text, "\"ip\": \"1.2.3.4\""));
    ck_assert_ptr_nonnull(strstr(text, "\"state\": \"paused\""));
    free(text);

    /* Clearing optional values round-trips too. */
    ck_assert_int_eq(pf_set_category(pf, NULL, NULL), 0);
    ck_assert_int_eq(pf_set_added_by(pf, "", NULL), 0);
    pf_set_aich_root(pf, NULL);
    save(pf);
    pf = reload(pf);
    ck_assert_ptr_null(pf_category(pf));
    ck_assert_ptr_null(pf_added_by(pf));
    ck_assert_ptr_null(pf_aich_root(pf));
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

START_TEST(test_create_errors)
{
    uint8_t h[16];
    memset(h, 7, sizeof h);
    mt_error_t *err = NULL;
    ck_assert_ptr_null(pf_create(dir, h, 0, "x", &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_ptr_null(pf_create(dir, h, ED2K_MAX_FILE_SIZE + 1, "x", &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    const char *bad_names[] = { "", ".", "..", "a/b", "tab\there", "del\x7f", "c1\xc2\x85",
                                "bad\xff utf8", "over\xc0\xafong" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        ck_assert_msg(pf_create(dir, h, 10, bad_names[i], &err) == NULL, "accepted %s",
                      bad_names[i]);
        ck_assert_int_eq(err->code, MT_ERR_INVALID);
        mt_error_clear(&err);
    }
    char *longname = xmalloc(PF_MAX_NAME + 2);
    memset(longname, 'n', PF_MAX_NAME + 1);
    longname[PF_MAX_NAME + 1] = '\0';
    ck_assert_ptr_null(pf_create(dir, h, 10, longname, &err));
    mt_error_clear(&err);
    longname[PF_MAX_NAME] = '\0';
    partfile_t *pf = pf_create(dir, h, ED2K_MAX_FILE_SIZE, longname, &err);
    ck_assert_ptr_nonnull(pf);
    free(longname);
    ck_assert_uint_eq(pf_part_count(pf), ED2K_MAX_FILE_SIZE / PS + 1);
    /* Either file existing refuses a second download of the same hash. */
    ck_assert_ptr_null(pf_create(dir, h, 10, "again", &err));
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    char *data = xstrdup(pf_data_path(pf)), *met = xstrdup(pf_met_path(pf));
    pf_free(pf);
    ck_assert_int_eq(unlink(met), 0);
    ck_assert_ptr_null(pf_create(dir, h, 10, "again", &err));
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    ck_assert_int_eq(unlink(data), 0);
    write_file(met, "{}");
    ck_assert_ptr_null(pf_create(dir, h, 10, "again", &err));
    ck_assert_int_eq(err->code, MT_ERR_EXISTS);
    mt_error_clear(&err);
    ck_assert(!exists(data)); /* nothing created by the refusal */
    char *t = read_file(met, NULL);
    ck_assert_str_eq(t, "{}");
    free(t);
    /* A temp directory that does not exist */
    char *nodir = path_in(dir, "nope");
    ck_assert_ptr_null(pf_create(nodir, h, 10, "x", &err));
    ck_assert_int_eq(err->code, MT_ERR_IO);
    mt_error_clear(&err);
    free(nodir);
    free(data);
    free(met);
}
END_TEST

/* ---- the parser ---- */

#define H_SMALL "0123456789abcdef0123456789abcdef"

typedef struct {
    const char *json;
    int code; /* 0: accepted */
    const char *msg; /* a substring of the error message */
} parse_case_t;

static void
run_cases(const parse_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pf_meta_t *m = NULL;
        mt_error_t *err = NULL;
        int rc = pf_parse_met(cases[i].json, strlen(cases[i].json), &m, &err);
        if (cases[i].code == 0) {
            ck_assert_msg(rc == 0, "case %zu refused: %s (%s)", i, err ? err->message : "?",
                          cases[i].json);
            /* Accepted metadata serialises to text that reads back equal. */
            char *a = pf_meta_to_json(m);
            pf_meta_t *m2 = NULL;
            ck_assert_int_eq(pf_parse_met(a, strlen(a), &m2, NULL), 0);
            char *b = pf_meta_to_json(m2);
            ck_assert_str_eq(a, b);
            free(a);
            free(b);
            pf_meta_free(m2);
            pf_meta_free(m);
        } else {
            ck_assert_msg(rc == -1, "case %zu accepted: %s", i, cases[i].json);
            ck_assert_ptr_null(m);
            ck_assert_ptr_nonnull(err);
            ck_assert_msg(err->code == cases[i].code, "case %zu: code %d, want %d (%s)", i,
                          err->code, cases[i].code, err->message);
            ck_assert_msg(strstr(err->message, cases[i].msg) != NULL,
                          "case %zu: message \"%s\" lacks \"%s\"", i, err->message, cases[i].msg);
            mt_error_free(err);
        }
    }
}

#define BASE "\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":1000"
#define SMALL(extra) "{" BASE ",\"name\":\"a.bin\"" extra "}"

START_TEST(test_parse_small)
{
    const parse_case_t cases[] = {
        /* accepted */
        { SMALL(""), 0, NULL },
        { SMALL(",\"filled\":[[0,10],[20,1000]]"), 0, NULL },
        { SMALL(",\"filled\":[[0,10],[10,1000]],\"verified\":[0]"), 0, NULL }, /* touching */
        { SMALL(",\"part_hashes\":[]"), 0, NULL },
        { SMALL(",\"part_hashes\":null,\"category\":null,\"aich_root\":null"), 0, NULL },
        { SMALL(",\"future_member\":{\"x\":[1,2,3]},\"another\":\"y\""), 0, NULL },
        { SMALL(",\"aich_root\":\"q336in72uwt7zyk5dxolt2xk5i3xmz5y\""), 0, NULL },
        { SMALL(",\"priority\":-2147483648,\"added_at\":-9223372036854775808"), 0, NULL },
        { SMALL(",\"downloaded_bytes\":9223372036854775807"), 0, NULL },
        { SMALL(",\"sources\":[{\"ip\":\"10.0.0.1\",\"port\":1,\"userhash\":\"" H_SMALL
                "\"},{\"ip\":\"10.0.0.1\",\"port\":2}]"),
          0, NULL },
        { "\n {" BASE ",\"name\":\"\\u00e9t\\u00e9 \\/ x\"} \n\t",
          MT_ERR_INVALID, "\"name\"" }, /* an escaped '/' is still a '/' */
        { "{" BASE ",\"name\":\"\\u00e9t\\u00e9\"}\n", 0, NULL },
        /* JSON level */
        { "", MT_ERR_INVALID, "malformed JSON" },
        { "{", MT_ERR_INVALID, "malformed JSON" },
        { "[]", MT_ERR_INVALID, "must be a JSON object" },
        { "\"x\"", MT_ERR_INVALID, "must be a JSON object" },
        { SMALL("") " x", MT_ERR_INVALID, "malformed JSON" },
        { SMALL("") SMALL(""), MT_ERR_INVALID, "malformed JSON" },
        { "{" BASE ",\"name\":\"a\xff\"}", MT_ERR_INVALID, "malformed JSON" },
        { "{" BASE ",\"name\":'a'}", MT_ERR_INVALID, "malformed JSON" },
        { SMALL(",}"), MT_ERR_INVALID, "malformed JSON" },
        /* version */
        { "{\"hash\":\"" H_SMALL "\",\"size\":1,\"name\":\"a\"}", MT_ERR_INVALID, "\"version\"" },
        { "{\"version\":\"1\",\"hash\":\"" H_SMALL "\",\"size\":1,\"name\":\"a\"}", MT_ERR_INVALID,
          "\"version\"" },
        { "{\"version\":0,\"hash\":\"" H_SMALL "\",\"size\":1,\"name\":\"a\"}", MT_ERR_INVALID,
          "\"version\"" },
        { "{\"version\":2,\"hash\":\"" H_SMALL "\",\"size\":1,\"name\":\"a\"}",
          MT_ERR_UNSUPPORTED, "newer" },
        /* hash */
        { "{\"version\":1,\"size\":1,\"name\":\"a\"}", MT_ERR_INVALID, "\"hash\"" },
        { "{\"version\":1,\"hash\":\"0123\",\"size\":1,\"name\":\"a\"}", MT_ERR_INVALID,
          "\"hash\"" },
        { "{\"version\":1,\"hash\":\"0123456789abcdef0123456789abcdeg\",\"size\":1,\"name\":\"a\"}",
          MT_ERR_INVALID, "\"hash\"" },
        { "{\"version\":1,\"hash\":7,\"size\":1,\"name\":\"a\"}", MT_ERR_INVALID, "\"hash\"" },
        /* size */
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"name\":\"a\"}", MT_ERR_INVALID, "\"size\"" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":0,\"name\":\"a\"}", MT_ERR_INVALID,
          "\"size\"" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":-5,\"name\":\"a\"}", MT_ERR_INVALID,
          "\"size\"" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":274877906945,\"name\":\"a\"}",
          MT_ERR_INVALID, "\"size\"" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":10.0,\"name\":\"a\"}", MT_ERR_INVALID,
          "integer" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":1e3,\"name\":\"a\"}", MT_ERR_INVALID,
          "integer" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":\"10\",\"name\":\"a\"}",
          MT_ERR_INVALID, "integer" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":99999999999999999999,\"name\":\"a\"}",
          MT_ERR_INVALID, "does not fit" },
        { "{\"version\":1,\"hash\":\"" H_SMALL "\",\"size\":9223372036854775808,\"name\":\"a\"}",
          MT_ERR_INVALID, "does not fit" },
        { SMALL(",\"added_at\":-9223372036854775809"), MT_ERR_INVALID, "does not fit" },
        /* name */
        { "{" BASE "}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":5}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"a/b\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\".\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"..\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"a\\u0001b\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"a\\nb\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"a\\u0000b\"}", MT_ERR_INVALID, "\"name\"" },
        { "{" BASE ",\"name\":\"a\\u0085b\"}", MT_ERR_INVALID, "\"name\"" },
        /* json-c turns a lone surrogate escape into U+FFFD: valid UTF-8 */
        { "{" BASE ",\"name\":\"a\\ud800b\"}", 0, NULL },
        /* part hashes of a small file */
        { SMALL(",\"part_hashes\":[\"" H_SMALL "\"]"), MT_ERR_INVALID, "\"part_hashes\"" },
        { SMALL(",\"part_hashes\":{}"), MT_ERR_INVALID, "\"part_hashes\"" },
        /* filled */
        { SMALL(",\"filled\":{}"), MT_ERR_INVALID, "\"filled\"" },
        { SMALL(",\"filled\":[5]"), MT_ERR_INVALID, "\"filled\" entry 0" },
        { SMALL(",\"filled\":[[1,2,3]]"), MT_ERR_INVALID, "\"filled\" entry 0" },
        { SMALL(",\"filled\":[[1]]"), MT_ERR_INVALID, "\"filled\" entry 0" },
        { SMALL(",\"filled\":[[5,5]]"), MT_ERR_INVALID, "empty or reversed" },
        { SMALL(",\"filled\":[[6,5]]"), MT_ERR_INVALID, "empty or reversed" },
        { SMALL(",\"filled\":[[0,1001]]"), MT_ERR_INVALID, "out of range" },
        { SMALL(",\"filled\":[[-1,10]]"), MT_ERR_INVALID, "out of range" },
        { SMALL(",\"filled\":[[\"0\",10]]"), MT_ERR_INVALID, "integer" },
        { SMALL(",\"filled\":[[0,10],[5,20]]"), MT_ERR_INVALID, "overlaps" },
        { SMALL(",\"filled\":[[20,30],[0,10]]"), MT_ERR_INVALID, "out of order" },
        /* verified */
        { SMALL(",\"verified\":0"), MT_ERR_INVALID, "\"verified\"" },
        { SMALL(",\"filled\":[[0,1000]],\"verified\":[1]"), MT_ERR_INVALID, "out of range" },
        { SMALL(",\"filled\":[[0,999]],\"verified\":[0]"), MT_ERR_INVALID, "not filled" },
        { SMALL(",\"verified\":[0]"), MT_ERR_INVALID, "not filled" },
        { SMALL(",\"filled\":[[0,1000]],\"verified\":[0,0]"), MT_ERR_INVALID,
          "strictly increasing" },
        { SMALL(",\"verified\":[-1]"), MT_ERR_INVALID, "out of range" },
        /* aich */
        { SMALL(",\"aich_root\":\"Q336IN72UWT7ZYK5DXOLT2XK5I3XMZ5\""), MT_ERR_INVALID,
          "\"aich_root\"" },
        { SMALL(",\"aich_root\":\"Q336IN72UWT7ZYK5DXOLT2XK5I3XMZ51\""), MT_ERR_INVALID,
          "\"aich_root\"" },
        { SMALL(",\"aich_root\":20"), MT_ERR_INVALID, "\"aich_root\"" },
        /* plain metadata */
        { SMALL(",\"category\":5"), MT_ERR_INVALID, "\"category\"" },
        { SMALL(",\"category\":\"a\\tb\""), MT_ERR_INVALID, "\"category\"" },
        { SMALL(",\"added_by\":\"a\\u007fb\""), MT_ERR_INVALID, "\"added_by\"" },
        { SMALL(",\"added_via\":[]"), MT_ERR_INVALID, "\"added_via\"" },
        { SMALL(",\"download_id\":\"0123456789ABCDEF0123456789abcdef\""), MT_ERR_INVALID,
          "\"download_id\"" },
        { SMALL(",\"download_id\":\"0123\""), MT_ERR_INVALID, "\"download_id\"" },
        { SMALL(",\"download_id\":7"), MT_ERR_INVALID, "\"download_id\"" },
        { SMALL(",\"btih\":\"C12FE1C06BBA254A9DC9F519B335AA7C1367A88A\""), MT_ERR_INVALID,
          "\"btih\"" },
        { SMALL(",\"btih\":\"c12fe1c06bba254a9dc9f519b335aa7c1367a88\""), MT_ERR_INVALID,
          "\"btih\"" },
        { SMALL(",\"btih\":40"), MT_ERR_INVALID, "\"btih\"" },
        { SMALL(",\"priority\":2147483648"), MT_ERR_INVALID, "\"priority\"" },
        { SMALL(",\"priority\":1.5"), MT_ERR_INVALID, "integer" },
        { SMALL(",\"state\":\"running\""), MT_ERR_INVALID, "\"state\"" },
        { SMALL(",\"state\":1"), MT_ERR_INVALID, "\"state\"" },
        { SMALL(",\"added_at\":null"), MT_ERR_INVALID, "integer" },
        { SMALL(",\"completed_at\":\"now\""), MT_ERR_INVALID, "integer" },
        { SMALL(",\"downloaded_bytes\":-1"), MT_ERR_INVALID, "\"downloaded_bytes\"" },
        { SMALL(",\"uploaded_bytes\":true"), MT_ERR_INVALID, "integer" },
        /* sources */
        { SMALL(",\"sources\":{}"), MT_ERR_INVALID, "\"sources\"" },
        { SMALL(",\"sources\":[1]"), MT_ERR_INVALID, "source 0" },
        { SMALL(",\"sources\":[{\"port\":1}]"), MT_ERR_INVALID, "\"ip\"" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3\",\"port\":1}]"), MT_ERR_INVALID, "\"ip\"" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3.256\",\"port\":1}]"), MT_ERR_INVALID, "\"ip\"" },
        { SMALL(",\"sources\":[{\"ip\":\"0.0.0.0\",\"port\":1}]"), MT_ERR_INVALID, "\"ip\"" },
        { SMALL(",\"sources\":[{\"ip\":\"::1\",\"port\":1}]"), MT_ERR_INVALID, "\"ip\"" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3.4\"}]"), MT_ERR_INVALID, "\"port\"" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3.4\",\"port\":0}]"), MT_ERR_INVALID, "port" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3.4\",\"port\":65536}]"), MT_ERR_INVALID, "port" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3.4\",\"port\":1,\"userhash\":\"xx\"}]"),
          MT_ERR_INVALID, "userhash" },
        { SMALL(",\"sources\":[{\"ip\":\"1.2.3.4\",\"port\":1},{\"ip\":\"1.2.3.4\",\"port\":1}]"),
          MT_ERR_INVALID, "twice" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);

    /* NUL bytes, over-long strings and too many sources */
    pf_meta_t *m = NULL;
    mt_error_t *err = NULL;
    const char nul[] = "{\"version\":1\0}";
    ck_assert_int_eq(pf_parse_met(nul, sizeof nul - 1, &m, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "NUL"));
    mt_error_clear(&err);

    char *name = xmalloc(PF_MAX_NAME + 2);
    memset(name, 'x', PF_MAX_NAME + 1);
    name[PF_MAX_NAME + 1] = '\0';
    char *j = xasprintf("{" BASE ",\"name\":\"%s\"}", name);
    ck_assert_int_eq(pf_parse_met(j, strlen(j), &m, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    free(j);
    name[PF_MAX_NAME] = '\0';
    j = xasprintf("{" BASE ",\"name\":\"%s\"}", name);
    ck_assert_int_eq(pf_parse_met(j, strlen(j), &m, &err), 0);
    pf_meta_free(m);
    free(j);
    free(name);

    char cat[PF_MAX_STRING + 2];
    memset(cat, 'c', PF_MAX_STRING + 1);
    cat[PF_MAX_STRING + 1] = '\0';
    j = xasprintf(SMALL(",\"category\":\"%s\""), cat);
    ck_assert_int_eq(pf_parse_met(j, strlen(j), &m, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    free(j);

    size_t cap = 64 * (PF_MAX_SOURCES + 2), len = 0;
    char *src = xmalloc(cap);
    for (int i = 0; i <= PF_MAX_SOURCES; i++)
        len += (size_t)snprintf(src + len, cap - len, "%s{\"ip\":\"10.0.%d.%d\",\"port\":4662}",
                                i ? "," : "", i / 250, i % 250 + 1);
    j = xasprintf(SMALL(",\"sources\":[%s]"), src);
    ck_assert_int_eq(pf_parse_met(j, strlen(j), &m, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    mt_error_clear(&err);
    free(j);
    /* exactly the limit is fine */
    char *last = strrchr(src, '{');
    last[-1] = '\0';
    j = xasprintf(SMALL(",\"sources\":[%s]"), src);
    ck_assert_int_eq(pf_parse_met(j, strlen(j), &m, &err), 0);
    pf_meta_free(m);
    free(j);
    free(src);

    /* Deep nesting is refused by the tokenizer, not by the stack. */
    char deep[400];
    size_t d = 0;
    d += (size_t)snprintf(deep, sizeof deep, SMALL(",\"x\":"));
    d--; /* drop the closing brace */
    for (int i = 0; i < 100; i++)
        deep[d++] = '[';
    deep[d] = '\0';
    ck_assert_int_eq(pf_parse_met(deep, d, &m, &err), -1);
    mt_error_clear(&err);
}
END_TEST

START_TEST(test_parse_multipart)
{
    /* A 2-part download (PARTSIZE + 1 bytes): a real hash set. */
    uint8_t parts[2][16], fh[16], other[16];
    ed2k_md4("part zero", 9, parts[0]);
    ed2k_md4("part one", 8, parts[1]);
    ed2k_parthashes_md4((const uint8_t (*)[16])parts, 2, fh);
    char h[33], p0[33], p1[33];
    ed2k_hash_to_hex(fh, h);
    ed2k_hash_to_hex(parts[0], p0);
    ed2k_hash_to_hex(parts[1], p1);
    ed2k_md4("x", 1, other);
    char ox[33];
    ed2k_hash_to_hex(other, ox);
    const unsigned long long size = PS + 1;
#define MP(fmt, ...)                                                                              \
    xasprintf("{\"version\":1,\"hash\":\"%s\",\"size\":%llu,\"name\":\"m\"" fmt "}", h, size,    \
              __VA_ARGS__)
    struct {
        char *json;
        int code;
        const char *msg;
    } cases[] = {
        { MP("%s", ""), 0, NULL },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"]", p0, p1), 0, NULL },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"],\"filled\":[[0,%llu]],\"verified\":[1]", p0, p1,
             size),
          0, NULL },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"],\"filled\":[[9728000,9728001]],\"verified\":[1]",
             p0, p1),
          0, NULL },
        { MP(",\"part_hashes\":[\"%s\"]", p0), MT_ERR_INVALID, "has 1 hashes" },
        { MP(",\"part_hashes\":[\"%s\",\"%s\",\"%s\"]", p0, p1, p1), MT_ERR_INVALID,
          "has 3 hashes" },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"]", p1, p0), MT_ERR_INVALID, "do not match" },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"]", p0, ox), MT_ERR_INVALID, "do not match" },
        { MP(",\"part_hashes\":[\"%s\",\"zz\"]", p0), MT_ERR_INVALID, "part hash" },
        { MP(",\"part_hashes\":[\"%s\",5]", p0), MT_ERR_INVALID, "part hash" },
        { MP(",\"part_hashes\":[]%s", ""), MT_ERR_INVALID, "has 0 hashes" },
        { MP(",\"filled\":[[0,%llu]],\"verified\":[0]", size), MT_ERR_INVALID,
          "part hashes are unknown" },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"],\"filled\":[[0,9727999]],\"verified\":[0]", p0,
             p1),
          MT_ERR_INVALID, "not filled" },
        { MP(",\"part_hashes\":[\"%s\",\"%s\"],\"verified\":[2]", p0, p1), MT_ERR_INVALID,
          "out of range" },
    };
#undef MP
    parse_case_t pc[sizeof cases / sizeof cases[0]];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        pc[i] = (parse_case_t){ cases[i].json, cases[i].code, cases[i].msg };
    run_cases(pc, sizeof pc / sizeof pc[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        free(cases[i].json);

    /* Exact multiple: 3 part hashes, the last being MD4(""), and the
     * phantom part 1 may be listed as verified without bytes. */
    uint8_t ex[2][16];
    ed2k_md4("part zero", 9, ex[0]);
    ed2k_md4("", 0, ex[1]);
    ed2k_parthashes_md4((const uint8_t (*)[16])ex, 2, fh);
    char e0[33], e1[33];
    ed2k_hash_to_hex(fh, h);
    ed2k_hash_to_hex(ex[0], e0);
    ed2k_hash_to_hex(ex[1], e1);
    char *j = xasprintf("{\"version\":1,\"hash\":\"%s\",\"size\":%llu,\"name\":\"m\","
                        "\"part_hashes\":[\"%s\",\"%s\"],\"verified\":[1]}",
                        h, (unsigned long long)PS, e0, e1);
    pf_meta_t *m = NULL;
    mt_error_t *err = NULL;
    ck_assert_msg(pf_parse_met(j, strlen(j), &m, &err) == 0, "%s", err ? err->message : "");
    ck_assert_uint_eq(pf_meta_size(m), PS);
    pf_meta_free(m);
    free(j);
}
END_TEST

/* ---- crash safety ---- */

START_TEST(test_crash_model)
{
    ed2k_hash_result_t hr;
    const uint64_t size = PS + 300000; /* 2 parts */
    partfile_t *pf = new_download(size, "crash.bin", true, &hr);
    write_range(pf, 0, PS / 2);
    save(pf);
    /* Written after the last save: on disk, but not recorded. */
    write_range_fast(pf, PS / 2, PS);
    write_range(pf, PS, PS + 1000);
    ck_assert(pf_is_dirty(pf));
    pf = reload(pf); /* "crash": free without saving */
    ck_assert_uint_eq(pf_done_bytes(pf), PS / 2);
    ck_assert(rangeset_contains(pf_filled(pf), 0, PS / 2));
    ck_assert(!rangeset_intersects(pf_filled(pf), PS / 2, size));
    ck_assert(!pf_is_part_verified(pf, 0));
    size_t todo[8];
    ck_assert_uint_eq(pf_unverified_parts(pf, todo, 8), 2);
    ck_assert_uint_eq(todo[0], 0);
    ck_assert_uint_eq(todo[1], 1);
    ck_assert_uint_eq(pf_unverified_parts(pf, todo, 1), 1);
    /* A normal verification needs a filled part ... */
    ck_assert_ptr_null(pf_verify_prepare(pf, 0, false));
    /* ... a speculative one reads what is on disk: part 0 is all there. */
    ck_assert_int_eq(verify(pf, 0, true), PF_VERIFY_OK);
    ck_assert(pf_is_part_verified(pf, 0));
    ck_assert(pf_is_part_filled(pf, 0));
    ck_assert_uint_eq(pf_verified_bytes(pf), PS);
    ck_assert_uint_eq(pf_done_bytes(pf), PS);
    ck_assert(pf_is_dirty(pf));
    /* Part 1 is not all there: nothing changes, nothing is discarded. */
    ck_assert_int_eq(verify(pf, 1, true), PF_VERIFY_UNCHANGED);
    ck_assert(!pf_is_part_verified(pf, 1));
    ck_assert_uint_eq(pf_done_bytes(pf), PS);
    check_disk_bytes(pf_data_path(pf), PS, PS + 1000); /* still on disk */
    ck_assert_uint_eq(pf_unverified_parts(pf, todo, 8), 1);
    ck_assert_uint_eq(todo[0], 1);
    /* The verified state survives the next save and load. */
    save(pf);
    pf = reload(pf);
    ck_assert(pf_is_part_verified(pf, 0));
    ck_assert(!pf_is_part_verified(pf, 1));
    /* Finishing part 1 with a normal verification completes the file. */
    write_range(pf, PS, size);
    ck_assert_int_eq(verify(pf, 1, false), PF_VERIFY_OK);
    ck_assert(pf_is_complete(pf));
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* A real kill -9 of a process writing and saving: the metadata on disk is
 * always complete and never claims bytes that are not there. */
START_TEST(test_kill9)
{
    ed2k_hash_result_t hr;
    const uint64_t size = 3 * PS / 2;
    partfile_t *pf = new_download(size, "kill.bin", true, &hr);
    char *met = xstrdup(pf_met_path(pf));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Blocks in a scrambled order; a save every few blocks. */
        uint64_t n_blocks = size / 10240;
        for (uint64_t k = 0;; k++) {
            uint64_t b = (k * 7919) % n_blocks;
            write_range(pf, b * 10240, b * 10240 + 10240);
            if (k % 5 == 0)
                pf_save_now(pf, NULL);
        }
    }
    usleep(400 * 1000);
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    pf_free(pf);
    mt_error_t *err = NULL;
    pf = pf_load(met, &err);
    ck_assert_msg(pf != NULL, "load after kill: %s", err ? err->message : "?");
    ck_assert_uint_gt(pf_done_bytes(pf), 0);
    const rangeset_t *f = pf_filled(pf);
    for (size_t i = 0; i < rangeset_count(f); i++) {
        uint64_t s, e;
        rangeset_get(f, i, &s, &e);
        check_disk_bytes(pf_data_path(pf), s, e);
    }
    pf_free(pf);
    free(met);
    ed2k_hash_result_clear(&hr);
}
END_TEST

static int n_loaded, n_failed;
static char failed_paths[4][256];

static void
on_loaded(partfile_t *pf, void *ctx)
{
    (void)ctx;
    n_loaded++;
    pf_free(pf);
}

static void
on_failed(const char *path, const mt_error_t *err, void *ctx)
{
    (void)ctx;
    ck_assert_ptr_nonnull(err);
    if (n_failed < 4)
        snprintf(failed_paths[n_failed], sizeof failed_paths[0], "%s", path);
    n_failed++;
}

START_TEST(test_atomic_save)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(5000, "atomic.txt", true, &hr);
    write_range(pf, 0, 1000);
    save(pf);
    char *met = xstrdup(pf_met_path(pf));
    char *tmp = xasprintf("%s.tmp", met);
    char *before = read_file(met, NULL);

    /* A save that cannot write its temporary file fails, leaves the old
     * metadata as it was, and leaves the partfile dirty. */
    ck_assert_int_eq(mkdir(tmp, 0755), 0);
    write_range(pf, 1000, 2000);
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_save_now(pf, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err->message, ".part.met.tmp"));
    mt_error_clear(&err);
    ck_assert(pf_is_dirty(pf));
    char *after = read_file(met, NULL);
    ck_assert_str_eq(before, after);
    free(after);
    /* The asynchronous form: prepare marks clean, a failed run is undone
     * by pf_save_failed. */
    pf_save_job_t *job = pf_save_prepare(pf);
    ck_assert_ptr_nonnull(job);
    ck_assert(!pf_is_dirty(pf));
    ck_assert_ptr_null(pf_save_prepare(pf));
    ck_assert_int_eq(pf_save_run(job, &err), -1);
    mt_error_clear(&err);
    pf_save_failed(pf);
    pf_save_job_free(job);
    ck_assert(pf_is_dirty(pf));
    ck_assert_int_eq(rmdir(tmp), 0);
    save(pf);
    ck_assert(!exists(tmp));

    /* A leftover temporary file (a save cut short) is ignored and removed
     * by pf_load_dir; the .part.met it sits beside is what counts. */
    write_file(tmp, "{\"version\":1, \"trunc");
    pf_free(pf);
    pf = pf_load(met, &err); /* pf_load alone does not look at the tmp */
    ck_assert_ptr_nonnull(pf);
    ck_assert_uint_eq(pf_done_bytes(pf), 2000);
    pf_free(pf);
    ck_assert(exists(tmp));
    n_loaded = n_failed = 0;
    ck_assert_int_eq(pf_load_dir(dir, on_loaded, on_failed, NULL), 1);
    ck_assert_int_eq(n_failed, 0);
    ck_assert(!exists(tmp));
    after = read_file(met, NULL);
    ck_assert_ptr_nonnull(strstr(after, "2000"));
    free(after);
    free(before);
    free(met);
    free(tmp);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* Save jobs of one partfile run in any order on workers: the newest
 * snapshot wins, and nothing is written after the files are deleted. */
START_TEST(test_save_jobs_order)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(100000, "jobs.bin", true, &hr);
    write_range(pf, 0, 100);
    pf_save_job_t *j1 = pf_save_prepare(pf);
    write_range(pf, 100, 200);
    pf_save_job_t *j2 = pf_save_prepare(pf);
    ck_assert_ptr_nonnull(j1);
    ck_assert_ptr_nonnull(j2);
    ck_assert_int_eq(pf_save_run(j2, NULL), 0);
    ck_assert_int_eq(pf_save_run(j1, NULL), 0); /* older: skipped */
    pf_save_job_free(j1);
    pf_save_job_free(j2);
    pf = reload(pf);
    ck_assert_uint_eq(pf_done_bytes(pf), 200);

    /* A job outliving its partfile still runs safely. */
    write_range(pf, 200, 300);
    pf_save_job_t *j3 = pf_save_prepare(pf);
    char *met = xstrdup(pf_met_path(pf));
    pf_free(pf);
    ck_assert_int_eq(pf_save_run(j3, NULL), 0);
    pf_save_job_free(j3);
    mt_error_t *err = NULL;
    pf = pf_load(met, &err);
    ck_assert_ptr_nonnull(pf);
    ck_assert_uint_eq(pf_done_bytes(pf), 300);

    /* After pf_delete_files, a save in flight does not bring the metadata
     * back. */
    write_range(pf, 300, 400);
    pf_save_job_t *j4 = pf_save_prepare(pf);
    char *data = xstrdup(pf_data_path(pf));
    ck_assert_int_eq(pf_delete_files(pf, &err), 0);
    ck_assert(!exists(met));
    ck_assert(!exists(data));
    ck_assert_int_eq(pf_save_run(j4, NULL), 0);
    ck_assert(!exists(met));
    pf_save_job_free(j4);
    ck_assert_int_eq(pf_save_now(pf, NULL), 0);
    ck_assert(!exists(met));
    ck_assert_int_eq(pf_delete_files(pf, &err), 0); /* already gone: fine */
    pf_free(pf);
    free(met);
    free(data);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* ---- verification ---- */

START_TEST(test_corrupt_part_discarded)
{
    ed2k_hash_result_t hr;
    const uint64_t size = 2 * PS + 10; /* 3 parts */
    partfile_t *pf = new_download(size, "corrupt.bin", false, &hr);
    write_range_fast(pf, 0, PS);
    write_range_fast(pf, PS, PS + 5);
    /* Without the hash set a multi-part file cannot be checked. */
    ck_assert(!pf_has_hashset(pf));
    ck_assert_ptr_null(pf_part_hash(pf, 0));
    ck_assert_ptr_null(pf_verify_prepare(pf, 0, false));
    ck_assert_ptr_null(pf_verify_prepare(pf, 0, true));
    ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes,
                                    hr.n_part_hashes, NULL),
                     0);
    ck_assert(pf_has_hashset(pf));
    /* Part 1: one wrong byte among good ones. */
    uint8_t bad = (uint8_t)(byte_at(PS + 100) ^ 0x5A);
    ck_assert_int_eq(pf_write(pf, PS + 100, &bad, 1, NULL), 0);
    write_range_fast(pf, PS + 5, 2 * PS);
    ck_assert(pf_is_part_filled(pf, 1));
    /* A speculative check of a bad part changes nothing ... */
    ck_assert_int_eq(verify(pf, 1, true), PF_VERIFY_UNCHANGED);
    ck_assert(pf_is_part_filled(pf, 1));
    /* ... a normal one discards the part's ranges, and only them. */
    save(pf);
    ck_assert_int_eq(verify(pf, 1, false), PF_VERIFY_CORRUPT);
    ck_assert(pf_is_dirty(pf));
    ck_assert(!rangeset_intersects(pf_filled(pf), PS, 2 * PS));
    ck_assert(pf_is_part_filled(pf, 0));
    ck_assert(!pf_is_part_verified(pf, 1));
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    /* Downloaded again, correctly this time. */
    write_range_fast(pf, PS, 2 * PS);
    ck_assert_int_eq(verify(pf, 1, false), PF_VERIFY_OK);
    ck_assert_uint_eq(pf_verified_bytes(pf), 2 * PS);
    write_range(pf, 2 * PS, size);
    ck_assert_int_eq(verify(pf, 2, false), PF_VERIFY_OK);
    ck_assert(pf_is_complete(pf));
    check_disk_bytes(pf_data_path(pf), 0, size);

    /* What cannot be verified */
    ck_assert_ptr_null(pf_verify_prepare(pf, 0, false)); /* already verified */
    ck_assert_ptr_null(pf_verify_prepare(pf, 0, true));
    ck_assert_ptr_null(pf_verify_prepare(pf, 3, true)); /* out of range */
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST


/* A mismatch kept for AICH recovery: the part stays filled, the job has
 * the block hashes as read (the bad one differs from the right data's),
 * and discarding that block makes a gap of exactly that block. */
START_TEST(test_corrupt_blocks_kept)
{
    ed2k_hash_result_t hr;
    const uint64_t size = 2 * PS + 10;
    partfile_t *pf = new_download(size, "blocks.bin", false, &hr);
    ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes,
                                    hr.n_part_hashes, NULL),
                     0);
    write_range_fast(pf, PS, 2 * PS);
    const uint64_t at = PS + 7 * ED2K_EMBLOCKSIZE + 99; /* block 7 of part 1 */
    uint8_t bad = (uint8_t)(byte_at(at) ^ 0x01);
    ck_assert_int_eq(pf_write(pf, at, &bad, 1, NULL), 0); /* a rewrite: ignored */
    /* write it where it is not filled yet: discard and write again */
    pf_discard_part(pf, 1);
    ck_assert(!rangeset_intersects(pf_filled(pf), PS, 2 * PS));
    write_range_fast(pf, PS, at);
    ck_assert_int_eq(pf_write(pf, at, &bad, 1, NULL), 0);
    write_range_fast(pf, at + 1, 2 * PS);
    ck_assert(pf_is_part_filled(pf, 1));

    pf_verify_job_t *job = pf_verify_prepare(pf, 1, false);
    ck_assert_ptr_nonnull(job);
    pf_verify_keep_on_mismatch(job);
    ck_assert_int_eq(pf_verify_run(job), 0);
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_CORRUPT);
    ck_assert(pf_is_part_filled(pf, 1)); /* kept */
    ck_assert(!pf_is_part_verified(pf, 1));
    const uint8_t (*blocks)[ED2K_AICH_LEN];
    size_t n = pf_verify_blocks(job, &blocks);
    ck_assert_uint_eq(n, ED2K_AICH_BLOCKS_PER_PART);
    /* the right block hashes, from the data itself */
    uint8_t *right = xmalloc(PS);
    for (uint64_t i = 0; i < PS; i++)
        right[i] = byte_at(PS + i);
    uint8_t good[ED2K_AICH_BLOCKS_PER_PART][ED2K_AICH_LEN];
    ck_assert_uint_eq(ed2k_aich_blocks(right, PS, good), n);
    free(right);
    bool differs[ED2K_AICH_BLOCKS_PER_PART];
    for (size_t i = 0; i < n; i++) {
        differs[i] = memcmp(good[i], blocks[i], ED2K_AICH_LEN) != 0;
        ck_assert_msg(differs[i] == (i == 7), "block %zu", i);
    }
    pf_verify_job_free(job);
    ck_assert_uint_eq(pf_discard_blocks(pf, 1, differs, n), ED2K_EMBLOCKSIZE);
    uint64_t bs = PS + 7 * ED2K_EMBLOCKSIZE;
    ck_assert(!rangeset_intersects(pf_filled(pf), bs, bs + ED2K_EMBLOCKSIZE));
    ck_assert(rangeset_contains(pf_filled(pf), PS, bs));
    ck_assert(rangeset_contains(pf_filled(pf), bs + ED2K_EMBLOCKSIZE, 2 * PS));
    /* that block again, right this time: the part verifies */
    write_range_fast(pf, bs, bs + ED2K_EMBLOCKSIZE);
    ck_assert_int_eq(verify(pf, 1, false), PF_VERIFY_OK);
    /* a verified part is never discarded */
    ck_assert_uint_eq(pf_discard_blocks(pf, 1, differs, n), 0);
    ck_assert(pf_is_part_verified(pf, 1));
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

START_TEST(test_part_states)
{
    ed2k_hash_result_t hr;
    const uint64_t size = 2 * PS; /* two parts and the phantom one */
    partfile_t *pf = new_download(size, "states.bin", false, &hr);
    ck_assert_int_eq(pf_part_state(pf, 0), PF_PART_MISSING);
    ck_assert_int_eq(pf_part_state(pf, 1), PF_PART_MISSING);
    ck_assert_int_eq(pf_part_state(pf, 2), PF_PART_VERIFIED); /* phantom */
    ck_assert_int_eq(pf_part_state(pf, 3), PF_PART_MISSING);  /* out of range */
    /* one byte at the end of part 1 makes it partial, not part 0 */
    write_range(pf, 2 * PS - 1, 2 * PS);
    ck_assert_int_eq(pf_part_state(pf, 0), PF_PART_MISSING);
    ck_assert_int_eq(pf_part_state(pf, 1), PF_PART_PARTIAL);
    write_range_fast(pf, 0, PS);
    ck_assert_int_eq(pf_part_state(pf, 0), PF_PART_PARTIAL); /* filled, not checked */
    ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes,
                                    hr.n_part_hashes, NULL),
                     0);
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    ck_assert_int_eq(pf_part_state(pf, 0), PF_PART_VERIFIED);
    ck_assert_int_eq(pf_part_state(pf, 1), PF_PART_PARTIAL);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST


/* Zeros are not written into a new download's holes (the file stays
 * sparse); a corrupt part is punched out; after a load, gaps may hold stale
 * bytes, so zeros are written for real. */
START_TEST(test_zero_holes)
{
    const uint64_t size = PS + 100000;
    uint8_t *content = xcalloc(size, 1);
    for (int i = 0; i < 100; i++) {
        content[1000 + i] = (uint8_t)(i + 1);
        content[PS + 5000 + i] = (uint8_t)(i + 7);
    }
    ed2k_hash_result_t hr;
    ed2k_hash_memory(content, size, &hr);
    mt_error_t *err = NULL;
    partfile_t *pf = pf_create(dir, hr.file_hash, size, "zeros.bin", &err);
    ck_assert_ptr_nonnull(pf);
    ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes,
                                    hr.n_part_hashes, NULL), 0);
    /* part 1 gets a corrupt non-zero byte first */
    uint8_t junk = 0xEE;
    ck_assert_int_eq(pf_write(pf, PS + 50000, &junk, 1, NULL), 0);
    for (uint64_t off = 0; off < size; off += 10240) {
        size_t n = size - off < 10240 ? (size_t)(size - off) : 10240;
        ck_assert_int_eq(pf_write(pf, off, content + off, n, NULL), 0);
    }
    struct stat st;
    ck_assert_int_eq(stat(pf_data_path(pf), &st), 0);
    ck_assert_int_lt((long long)st.st_blocks * 512, 1 << 20); /* ~10 MB of zeros not written */
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    ck_assert_int_eq(verify(pf, 1, false), PF_VERIFY_CORRUPT);
    /* the corrupt byte is gone from the disk: the gap reads as zeros */
    int fd = open(pf_data_path(pf), O_RDONLY);
    uint8_t b = 1;
    ck_assert_int_eq(pread(fd, &b, 1, (off_t)(PS + 50000)), 1);
    ck_assert_int_eq(b, 0);
    close(fd);
    for (uint64_t off = PS; off < size; off += 10240) {
        size_t n = size - off < 10240 ? (size_t)(size - off) : 10240;
        ck_assert_int_eq(pf_write(pf, off, content + off, n, NULL), 0);
    }
    ck_assert_int_eq(verify(pf, 1, false), PF_VERIFY_OK);
    ck_assert(pf_is_complete(pf));
    pf_free(pf);
    ed2k_hash_result_clear(&hr);

    /* After a load: stale bytes in a gap are overwritten by real zeros. */
    ed2k_hash_memory(content, size, &hr);
    char *met = NULL;
    mkdir(dir, 0755);
    char *sub = xasprintf("%s/reload", dir);
    mkdir(sub, 0755);
    pf = pf_create(sub, hr.file_hash, size, "zeros.bin", &err);
    ck_assert_ptr_nonnull(pf);
    ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes,
                                    hr.n_part_hashes, NULL), 0);
    save(pf);
    fd = open(pf_data_path(pf), O_WRONLY);
    ck_assert_int_eq(pwrite(fd, &junk, 1, 77), 1); /* written "before a crash", not saved */
    close(fd);
    met = xstrdup(pf_met_path(pf));
    pf_free(pf);
    pf = pf_load(met, &err);
    ck_assert_ptr_nonnull(pf);
    for (uint64_t off = 0; off < PS; off += 10240)
        ck_assert_int_eq(pf_write(pf, off, content + off, 10240 < PS - off ? 10240 : (size_t)(PS - off), NULL), 0);
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    pf_delete_files(pf, NULL);
    pf_free(pf);
    free(met);
    rmdir(sub);
    free(sub);
    ed2k_hash_result_clear(&hr);
    free(content);
}
END_TEST

START_TEST(test_verified_writes_ignored)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(4000, "small.txt", false, &hr);
    ck_assert(pf_has_hashset(pf)); /* a small file: the file hash is the part hash */
    ck_assert_mem_eq(pf_part_hash(pf, 0), hr.file_hash, 16);
    write_range(pf, 0, 4000);
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    save(pf);
    uint8_t junk[500];
    memset(junk, 0xEE, sizeof junk);
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_write(pf, 1000, junk, sizeof junk, &err), 0);
    ck_assert(!pf_is_dirty(pf)); /* nothing was written */
    check_disk_bytes(pf_data_path(pf), 0, 4000);
    ck_assert(pf_is_part_verified(pf, 0));
    pf_free(pf);
    ed2k_hash_result_clear(&hr);

    /* In a part not verified yet, filled bytes are kept too (the first copy
     * wins) and only the gaps are written. */
    pf = new_download(6000, "gaps.txt", false, &hr);
    write_range(pf, 1000, 2000);
    ck_assert_int_eq(pf_write(pf, 500, junk, sizeof junk, NULL), 0); /* [500,1000) */
    uint8_t mixed[3000];
    for (size_t i = 0; i < sizeof mixed; i++)
        mixed[i] = byte_at(500 + i);
    memset(mixed + 300, 0xEE, 1000); /* junk over [800,1800): partly filled */
    ck_assert_int_eq(pf_write(pf, 500, mixed, sizeof mixed, NULL), 0);
    ck_assert(rangeset_contains(pf_filled(pf), 500, 3500));
    check_disk_bytes(pf_data_path(pf), 1000, 2000);  /* kept */
    check_disk_bytes(pf_data_path(pf), 2000, 3500);  /* gap written */
    /* [500,1000) holds the first junk; fix it by discarding the part. */
    write_range(pf, 0, 6000);
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_CORRUPT);
    ck_assert_uint_eq(pf_done_bytes(pf), 0);
    write_range(pf, 0, 6000);
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);

    /* Writes beyond the end are refused; empty ones are fine. */
    ck_assert_int_eq(pf_write(pf, 5999, junk, 2, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_int_eq(pf_write(pf, UINT64_MAX, junk, 2, &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(pf_write(pf, 6000, junk, 0, &err), 0);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* A part that changes while it is read is not trusted on the old read. */
START_TEST(test_verify_stale_and_io_error)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(PS + 5, "stale.bin", true, &hr);
    write_range_fast(pf, 0, PS - 1);
    /* speculative job prepared, then the last byte arrives */
    pf_verify_job_t *job = pf_verify_prepare(pf, 0, true);
    ck_assert_ptr_nonnull(job);
    ck_assert(pf_verify_is_speculative(job));
    ck_assert_uint_eq(pf_verify_part(job), 0);
    ck_assert_int_eq(pf_verify_run(job), 0);
    ck_assert(pf_verify_matched(job) == (byte_at(PS - 1) == 0)); /* a hole reads as 0 */
    write_range(pf, PS - 1, PS);
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_UNCHANGED);
    pf_verify_job_free(job);
    ck_assert(!pf_is_part_verified(pf, 0));
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);

    /* After a crash part 0 is all on disk but not filled. A speculative
     * read matches; then, before the result is applied, a source writes
     * other bytes into it: the match is about data that is gone. */
    pf = new_download(PS + 6, "stale2.bin", true, &hr);
    save(pf); /* the hash set */
    write_range_fast(pf, 0, PS);
    pf = reload(pf);
    ck_assert_uint_eq(pf_done_bytes(pf), 0);
    job = pf_verify_prepare(pf, 0, true);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(pf_verify_run(job), 0);
    ck_assert(pf_verify_matched(job));
    uint8_t junk[100];
    memset(junk, 0xA5, sizeof junk);
    ck_assert_int_eq(pf_write(pf, 5000, junk, sizeof junk, NULL), 0);
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_UNCHANGED);
    pf_verify_job_free(job);
    ck_assert(!pf_is_part_verified(pf, 0));
    ck_assert_uint_eq(pf_done_bytes(pf), sizeof junk);
    ck_assert_int_eq(verify(pf, 0, true), PF_VERIFY_UNCHANGED); /* now it does not match */

    /* A read error: the data file shrank behind our back. */
    write_range(pf, PS, PS + 6);
    job = pf_verify_prepare(pf, 1, false);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(truncate(pf_data_path(pf), PS + 2), 0);
    ck_assert_int_eq(pf_verify_run(job), -1);
    ck_assert_ptr_nonnull(pf_verify_error(job));
    ck_assert_ptr_nonnull(strstr(pf_verify_error(job), "part 1"));
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_ERROR);
    pf_verify_job_free(job);
    ck_assert(pf_is_part_filled(pf, 1)); /* an I/O error discards nothing */
    /* A job applied to another download is refused. */
    ed2k_hash_result_t hr2;
    partfile_t *other = new_download(10, "other", false, &hr2);
    write_range(other, 0, 10);
    job = pf_verify_prepare(other, 0, false);
    ck_assert_int_eq(pf_verify_run(job), 0);
    ck_assert_int_eq(pf_verify_apply(pf, job), PF_VERIFY_ERROR);
    ck_assert_int_eq(pf_verify_apply(other, job), PF_VERIFY_OK);
    pf_verify_job_free(job);
    pf_verify_job_free(NULL);
    pf_free(other);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
    ed2k_hash_result_clear(&hr2);
}
END_TEST

/* ---- sizes at the edges of the part arithmetic (§6.2) ---- */

static void
full_cycle(uint64_t size, size_t want_parts, size_t want_data_parts, size_t want_hashes)
{
    ed2k_hash_result_t hr;
    char *name = xasprintf("size-%llu.bin", (unsigned long long)size);
    partfile_t *pf = new_download(size, name, true, &hr);
    ck_assert_uint_eq(hr.n_part_hashes, want_hashes);
    ck_assert_uint_eq(pf_part_count(pf), want_parts);
    ck_assert_uint_eq(pf_data_part_count(pf), want_data_parts);
    ck_assert(pf_has_hashset(pf));
    uint64_t s, e, covered = 0;
    for (size_t i = 0; i < want_parts; i++) {
        ck_assert_int_eq(pf_part_range(pf, i, &s, &e), 0);
        ck_assert_uint_eq(s, i * PS < size ? i * PS : size);
        covered += e - s;
        ck_assert_ptr_nonnull(pf_part_hash(pf, i));
    }
    ck_assert_uint_eq(covered, size);
    ck_assert_int_eq(pf_part_range(pf, want_parts, &s, &e), -1);
    ck_assert_ptr_null(pf_part_hash(pf, want_parts));
    bool phantom = size % PS == 0;
    if (phantom) {
        /* The phantom part: empty, always filled and verified. */
        pf_part_range(pf, want_parts - 1, &s, &e);
        ck_assert_uint_eq(s, size);
        ck_assert_uint_eq(e, size);
        ck_assert(pf_is_part_verified(pf, want_parts - 1));
        ck_assert(pf_is_part_filled(pf, want_parts - 1));
        ck_assert_ptr_null(pf_verify_prepare(pf, want_parts - 1, true));
        ck_assert_uint_eq(pf_verified_bytes(pf), 0);
    }
    size_t todo[8];
    ck_assert_uint_eq(pf_unverified_parts(pf, todo, 8), want_data_parts);
    ck_assert(!pf_is_complete(pf));
    write_range_fast(pf, 0, size);
    for (size_t i = 0; i < want_data_parts; i++) {
        ck_assert(pf_is_part_filled(pf, i));
        ck_assert_int_eq(verify(pf, i, false), PF_VERIFY_OK);
    }
    ck_assert(pf_is_complete(pf));
    ck_assert_uint_eq(pf_verified_bytes(pf), size);
    ck_assert_uint_eq(pf_done_bytes(pf), size);
    save(pf);
    pf = reload(pf);
    ck_assert(pf_is_complete(pf));
    ck_assert_uint_eq(pf_unverified_parts(pf, todo, 8), 0);
    /* and it completes into the incoming directory */
    pf_complete_job_t *job = pf_complete_prepare(pf, incoming);
    ck_assert_ptr_nonnull(job);
    mt_error_t *err = NULL;
    ck_assert_msg(pf_complete_run(job, &err) == 0, "complete: %s", err ? err->message : "");
    char *want = path_in(incoming, name);
    ck_assert_str_eq(pf_complete_path(job), want);
    struct stat st;
    ck_assert_int_eq(stat(want, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)size);
    check_disk_bytes(want, 0, size);
    ck_assert(!exists(pf_data_path(pf)));
    ck_assert(!exists(pf_met_path(pf)));
    pf_complete_job_free(job);
    pf_free(pf);
    free(want);
    free(name);
    ed2k_hash_result_clear(&hr);
}

START_TEST(test_sizes)
{
    full_cycle(1, 1, 1, 0);
    full_cycle(PS - 1, 1, 1, 0);
    full_cycle(PS, 2, 1, 2);
    full_cycle(PS + 1, 2, 2, 2);
    full_cycle(3 * PS - 7, 3, 3, 3);
}
END_TEST

START_TEST(test_sparse_large)
{
    /* 5 GiB: offsets beyond 32 bits, a sparse data file. */
    const uint64_t size = 5ULL << 30;
    const size_t n_hashes = (size_t)ed2k_hash_count(size);
    const size_t last = n_hashes - 1;
    uint64_t ls = (uint64_t)last * PS;
    ck_assert_uint_lt(ls, size); /* not an exact multiple */
    /* The hash set: the last part's real hash, arbitrary others. */
    uint8_t (*hashes)[16] = xcalloc(n_hashes, 16);
    for (size_t i = 0; i < last; i++)
        ed2k_md4(&i, sizeof i, hashes[i]);
    size_t llen = (size_t)(size - ls);
    uint8_t *data = xmalloc(llen);
    for (size_t i = 0; i < llen; i++)
        data[i] = byte_at(ls + i);
    ed2k_md4(data, llen, hashes[last]);
    uint8_t fh[16];
    ed2k_parthashes_md4((const uint8_t (*)[16])hashes, n_hashes, fh);
    mt_error_t *err = NULL;
    partfile_t *pf = pf_create(dir, fh, size, "big.iso", &err);
    ck_assert_msg(pf != NULL, "%s", err ? err->message : "");
    ck_assert_int_eq(pf_set_hashset(pf, (const uint8_t (*)[16])hashes, n_hashes, &err), 0);
    ck_assert_uint_eq(pf_part_count(pf), n_hashes);
    ck_assert_int_eq(pf_write(pf, ls, data, llen, &err), 0);
    ck_assert_int_eq(verify(pf, last, false), PF_VERIFY_OK);
    ck_assert_uint_eq(pf_verified_bytes(pf), llen);
    /* a block in the middle, above 4 GiB */
    ck_assert_int_eq(pf_write(pf, (4ULL << 30) + 12345, data, 10240, &err), 0);
    save(pf);
    pf = reload(pf);
    ck_assert_uint_eq(pf_size(pf), size);
    ck_assert(pf_is_part_verified(pf, last));
    ck_assert(rangeset_contains(pf_filled(pf), ls, size));
    ck_assert(rangeset_contains(pf_filled(pf), (4ULL << 30) + 12345, (4ULL << 30) + 22585));
    ck_assert_uint_eq(pf_done_bytes(pf), llen + 10240);
    check_disk_bytes(pf_data_path(pf), ls, size);
    struct stat st;
    ck_assert_int_eq(stat(pf_data_path(pf), &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)size);
    ck_assert_msg((uint64_t)st.st_blocks * 512 < 64ULL << 20, "data file uses %llu bytes",
                  (unsigned long long)st.st_blocks * 512);
    /* A data file cut short (e.g. copied without its tail) is extended. */
    char *data_path = xstrdup(pf_data_path(pf));
    ck_assert_int_eq(truncate(data_path, 1 << 20), 0);
    pf = reload(pf);
    ck_assert_int_eq(stat(data_path, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)size);
    pf_free(pf);
    free(data_path);
    free(data);
    free(hashes);
}
END_TEST

/* ---- loading ---- */

START_TEST(test_load_dir)
{
    ed2k_hash_result_t h1, h2, h3;
    partfile_t *a = new_download(1000, "a", false, &h1);
    partfile_t *b = new_download(2000, "b", false, &h2);
    partfile_t *c = new_download(3000, "c", false, &h3);
    char *atmp = xasprintf("%s.tmp", pf_met_path(a));
    write_file(atmp, "garbage");
    char *cmet = xstrdup(pf_met_path(c));
    write_file(cmet, "{\"version\":1}"); /* bad metadata */
    /* an orphan data file */
    char *orphan = path_in(dir, "00000000000000000000000000000000.part");
    write_file(orphan, "x");
    char *bad_dir = path_in(dir, "nope");
    pf_free(a);
    pf_free(b);
    pf_free(c);
    n_loaded = n_failed = 0;
    ck_assert_int_eq(pf_load_dir(dir, on_loaded, on_failed, NULL), 2);
    ck_assert_int_eq(n_loaded, 2);
    ck_assert_int_eq(n_failed, 2);
    ck_assert_str_eq(failed_paths[0], orphan); /* name order: 0000... first */
    ck_assert(strcmp(failed_paths[0], cmet) == 0 || strcmp(failed_paths[1], cmet) == 0);
    ck_assert(!exists(atmp));
    ck_assert(exists(cmet)); /* never deleted */
    ck_assert(exists(orphan));
    n_failed = 0;
    ck_assert_int_eq(pf_load_dir(bad_dir, on_loaded, on_failed, NULL), -1);
    ck_assert_int_eq(n_failed, 1);
    ck_assert_int_eq(pf_load_dir(bad_dir, on_loaded, NULL, NULL), -1);
    free(atmp);
    free(cmet);
    free(orphan);
    free(bad_dir);
    ed2k_hash_result_clear(&h1);
    ed2k_hash_result_clear(&h2);
    ed2k_hash_result_clear(&h3);
}
END_TEST

START_TEST(test_load_errors)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(3000, "load.bin", false, &hr);
    write_range(pf, 0, 100);
    save(pf);
    char *met = xstrdup(pf_met_path(pf)), *data = xstrdup(pf_data_path(pf));
    pf_free(pf);
    mt_error_t *err = NULL;
    /* a longer data file is refused */
    ck_assert_int_eq(truncate(data, 3001), 0);
    ck_assert_ptr_null(pf_load(met, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err->message, "larger"));
    mt_error_clear(&err);
    /* a missing one too */
    ck_assert_int_eq(unlink(data), 0);
    ck_assert_ptr_null(pf_load(met, &err));
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_clear(&err);
    /* a missing metadata file */
    char *none = path_in(dir, "11111111111111111111111111111111.part.met");
    ck_assert_ptr_null(pf_load(none, &err));
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_clear(&err);
    /* a metadata file under another hash's name */
    char *text = read_file(met, NULL);
    write_file(none, text);
    write_file(data, "");
    ck_assert_ptr_null(pf_load(none, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "does not match"));
    mt_error_clear(&err);
    /* a name that is not H.part.met */
    char *odd = path_in(dir, "download.part.met");
    write_file(odd, text);
    ck_assert_ptr_null(pf_load(odd, &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    /* invalid metadata names the file */
    write_file(met, "{\"version\":1,\"hash\":7}");
    ck_assert_ptr_null(pf_load(met, &err));
    ck_assert_ptr_nonnull(strstr(err->message, met));
    ck_assert_ptr_nonnull(strstr(err->message, "\"hash\""));
    mt_error_clear(&err);
    /* an empty (short) data file is extended to the full size */
    write_file(met, text);
    pf = pf_load(met, &err);
    ck_assert_ptr_nonnull(pf);
    struct stat st;
    ck_assert_int_eq(stat(data, &st), 0);
    ck_assert_int_eq(st.st_size, 3000);
    pf_free(pf);
    free(text);
    free(met);
    free(data);
    free(none);
    free(odd);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* ---- metadata setters ---- */

START_TEST(test_sources)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(100, "src", false, &hr);
    ck_assert_int_eq(pf_add_source(pf, 0, 4662, NULL), -1);
    ck_assert_int_eq(pf_add_source(pf, 1, 0, NULL), -1);
    for (uint32_t i = 1; i <= PF_MAX_SOURCES + 5; i++)
        ck_assert_int_eq(pf_add_source(pf, 0x0A000000 + i, 4662, NULL), 0);
    ck_assert_uint_eq(pf_source_count(pf), PF_MAX_SOURCES);
    pf_source_t s;
    ck_assert(pf_get_source(pf, 0, &s));
    ck_assert_uint_eq(s.ip, 0x0A000000 + 6); /* the five oldest were dropped */
    /* re-adding refreshes: it moves to the newest end and keeps its hash */
    uint8_t uh[16];
    memset(uh, 0x42, sizeof uh);
    ck_assert_int_eq(pf_add_source(pf, 0x0A000000 + 6, 4662, uh), 0);
    ck_assert_int_eq(pf_add_source(pf, 0x0A000000 + 6, 4662, NULL), 0);
    ck_assert_uint_eq(pf_source_count(pf), PF_MAX_SOURCES);
    ck_assert(pf_get_source(pf, PF_MAX_SOURCES - 1, &s));
    ck_assert_uint_eq(s.ip, 0x0A000000 + 6);
    ck_assert(s.has_userhash);
    ck_assert_mem_eq(s.userhash, uh, 16);
    ck_assert(pf_get_source(pf, 0, &s));
    ck_assert_uint_eq(s.ip, 0x0A000000 + 7);
    /* same ip, other port: another source */
    ck_assert_int_eq(pf_add_source(pf, 0x0A000000 + 6, 4663, NULL), 0);
    ck_assert_int_eq(pf_remove_source(pf, 0x0A000000 + 6, 4662), 0);
    ck_assert_int_eq(pf_remove_source(pf, 0x0A000000 + 6, 4662), -1);
    ck_assert_uint_eq(pf_source_count(pf), PF_MAX_SOURCES - 1);
    save(pf);
    pf = reload(pf);
    ck_assert_uint_eq(pf_source_count(pf), PF_MAX_SOURCES - 1);
    ck_assert(pf_get_source(pf, PF_MAX_SOURCES - 2, &s));
    ck_assert_uint_eq(s.ip, 0x0A000000 + 6);
    ck_assert_uint_eq(s.port, 4663);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

START_TEST(test_setters)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(PS + 1, "set", false, &hr);
    save(pf);
    mt_error_t *err = NULL;
    /* invalid values are refused and change nothing */
    ck_assert_int_eq(pf_set_name(pf, "a/b", &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(pf_set_category(pf, "bad\x01", &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(pf_set_added_by(pf, "\xff", &err), -1);
    mt_error_clear(&err);
    char longs[PF_MAX_STRING + 2];
    memset(longs, 'l', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    ck_assert_int_eq(pf_set_added_via(pf, longs, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert_int_eq(pf_set_state(pf, (pf_state_t)7), -1);
    ck_assert(!pf_is_dirty(pf));
    ck_assert_str_eq(pf_name(pf), "set");
    /* every setter marks the metadata dirty */
#define DIRTIES(stmt)                                                                             \
    do {                                                                                          \
        save(pf);                                                                                 \
        stmt;                                                                                     \
        ck_assert_msg(pf_is_dirty(pf), "not dirty after %s", #stmt);                              \
    } while (0)
    DIRTIES(pf_set_name(pf, "new name", NULL));
    DIRTIES(pf_set_category(pf, "c", NULL));
    DIRTIES(pf_set_priority(pf, 5));
    DIRTIES(pf_set_state(pf, PF_STATE_STOPPED));
    DIRTIES(pf_set_added_at(pf, 1));
    DIRTIES(pf_set_completed_at(pf, 2));
    DIRTIES(pf_set_added_by(pf, "me", NULL));
    DIRTIES(pf_set_added_via(pf, "cli", NULL));
    DIRTIES(pf_set_downloaded_bytes(pf, 10));
    DIRTIES(pf_add_downloaded_bytes(pf, 10));
    DIRTIES(pf_set_uploaded_bytes(pf, 10));
    DIRTIES(pf_add_uploaded_bytes(pf, 10));
    DIRTIES(pf_set_aich_root(pf, hr.aich_root));
    DIRTIES(pf_add_source(pf, 1, 1, NULL));
    DIRTIES(pf_remove_source(pf, 1, 1));
    DIRTIES(pf_set_hashset(pf, (const uint8_t (*)[16])hr.part_hashes, 2, NULL));
    DIRTIES(write_range(pf, 0, 1));
#undef DIRTIES
    ck_assert_str_eq(pf_state_name(pf_state(pf)), "stopped");
    ck_assert_uint_eq(pf_downloaded_bytes(pf), 20);
    /* counters saturate rather than wrap */
    pf_set_uploaded_bytes(pf, UINT64_MAX);
    pf_add_uploaded_bytes(pf, 5);
    ck_assert_uint_eq(pf_uploaded_bytes(pf), (uint64_t)INT64_MAX);
    save(pf);
    pf = reload(pf);
    ck_assert_uint_eq(pf_uploaded_bytes(pf), (uint64_t)INT64_MAX);
    ck_assert_str_eq(pf_name(pf), "new name");
    ck_assert_int_eq(pf_completed_at(pf), 2);
    ck_assert_mem_eq(pf_aich_root(pf), hr.aich_root, 20);

    /* hash sets: wrong count or wrong hashes are refused */
    ed2k_hash_result_t hr2;
    partfile_t *p2 = new_download(2 * PS, "hs", false, &hr2);
    ck_assert_uint_eq(hr2.n_part_hashes, 3);
    ck_assert_int_eq(pf_set_hashset(p2, (const uint8_t (*)[16])hr2.part_hashes, 2, &err), -1);
    mt_error_clear(&err);
    uint8_t changed[3][16];
    memcpy(changed, hr2.part_hashes, sizeof changed);
    changed[1][0] ^= 1;
    ck_assert_int_eq(pf_set_hashset(p2, (const uint8_t (*)[16])changed, 3, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_clear(&err);
    ck_assert(!pf_has_hashset(p2));
    ck_assert_int_eq(pf_set_hashset(p2, (const uint8_t (*)[16])hr2.part_hashes, 3, &err), 0);
    ck_assert_int_eq(pf_set_hashset(p2, (const uint8_t (*)[16])hr2.part_hashes, 3, &err), 0);
    ck_assert_mem_eq(pf_part_hash(p2, 2), hr2.part_hashes[2], 16);
    /* a small file takes only the empty set */
    ed2k_hash_result_t hr3;
    partfile_t *p3 = new_download(10, "tiny", false, &hr3);
    ck_assert_int_eq(pf_set_hashset(p3, NULL, 0, &err), 0);
    ck_assert_int_eq(pf_set_hashset(p3, (const uint8_t (*)[16])hr2.part_hashes, 1, &err), -1);
    mt_error_clear(&err);
    pf_free(p3);
    pf_free(p2);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
    ed2k_hash_result_clear(&hr2);
    ed2k_hash_result_clear(&hr3);
}
END_TEST

/* Tags, share limits, force start and last activity (dlattr.h): kept
 * across a save, defaults for metadata written before they existed, every
 * value checked by the parser. */
/* The btih a download was added with: only 40 lower-case hex digits,
 * saved and read back; none until set. */
START_TEST(test_btih)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(1000, "btih.bin", false, &hr);
    ck_assert_ptr_null(pf_btih(pf));
    save(pf);
    pf = reload(pf);
    ck_assert_ptr_null(pf_btih(pf));
    ck_assert_int_eq(pf_set_btih(pf, "C12FE1C06BBA254A9DC9F519B335AA7C1367A88A"), -1);
    ck_assert_int_eq(pf_set_btih(pf, "c12fe1c06bba254a9dc9f519b335aa7c1367a88"), -1);
    ck_assert_int_eq(pf_set_btih(pf, "c12fe1c06bba254a9dc9f519b335aa7c1367a88a0"), -1);
    ck_assert_int_eq(pf_set_btih(pf, "g12fe1c06bba254a9dc9f519b335aa7c1367a88a"), -1);
    ck_assert(!pf_is_dirty(pf));
    ck_assert_ptr_null(pf_btih(pf));
    ck_assert_int_eq(pf_set_btih(pf, "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"), 0);
    ck_assert(pf_is_dirty(pf));
    save(pf);
    pf = reload(pf);
    ck_assert_str_eq(pf_btih(pf), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

START_TEST(test_attrs)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = new_download(1000, "attrs.bin", false, &hr);
    ck_assert_uint_eq(pf_tags(pf)->n, 0);
    ck_assert(pf_ratio_limit(pf) == DLA_LIMIT_GLOBAL);
    ck_assert_int_eq(pf_seeding_time_limit(pf), DLA_LIMIT_GLOBAL);
    ck_assert(!pf_force_start(pf));
    ck_assert_int_eq(pf_last_activity(pf), 0);
    save(pf);
    dla_tags_t t = { 0 };
    ck_assert_int_eq(dla_tags_add(&t, "tv", 2, NULL), 0);
    ck_assert_int_eq(dla_tags_add(&t, "\xc3\xa9t\xc3\xa9", 5, NULL), 0);
    pf_set_tags(pf, &t);
    ck_assert(pf_is_dirty(pf));
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_set_share_limits(pf, 9998.5, 10, &err), -1);
    mt_error_clear(&err);
    ck_assert_int_eq(pf_set_share_limits(pf, 1, 525601, &err), -1);
    mt_error_clear(&err);
    ck_assert(pf_ratio_limit(pf) == DLA_LIMIT_GLOBAL);
    ck_assert_int_eq(pf_set_share_limits(pf, 2.25, 90, &err), 0);
    pf_set_force_start(pf, true);
    pf_set_last_activity(pf, 1700000123);
    save(pf);
    pf_set_last_activity(pf, 1700000123); /* unchanged: nothing to save */
    ck_assert(!pf_is_dirty(pf));
    pf = reload(pf);
    ck_assert(dla_tags_equal(pf_tags(pf), &t));
    ck_assert(pf_ratio_limit(pf) == 2.25);
    ck_assert_int_eq(pf_seeding_time_limit(pf), 90);
    ck_assert(pf_force_start(pf));
    ck_assert_int_eq(pf_last_activity(pf), 1700000123);
    pf_free(pf);
    dla_tags_clear(&t);
    ed2k_hash_result_clear(&hr);

    /* metadata of an earlier version: the defaults */
    pf_meta_t *m = NULL;
    const char *old = SMALL("");
    ck_assert_int_eq(pf_parse_met(old, strlen(old), &m, NULL), 0);
    char *text = pf_meta_to_json(m);
    ck_assert_ptr_nonnull(strstr(text, "\"ratio_limit\": -2.0"));
    ck_assert_ptr_nonnull(strstr(text, "\"seeding_time_limit\": -2"));
    ck_assert_ptr_nonnull(strstr(text, "\"force_start\": false"));
    ck_assert_ptr_nonnull(strstr(text, "\"last_activity\": 0"));
    free(text);
    pf_meta_free(m);

    const parse_case_t cases[] = {
        { SMALL(",\"tags\":[\"b\",\" a \",\"b\"],\"ratio_limit\":-1,\"seeding_time_limit\":-1,"
                "\"force_start\":true,\"last_activity\":5"), 0, NULL },
        { SMALL(",\"tags\":null,\"ratio_limit\":0.5,\"seeding_time_limit\":525600"), 0, NULL },
        { SMALL(",\"ratio_limit\":9998,\"seeding_time_limit\":0"), 0, NULL },
        { SMALL(",\"tags\":\"a,b\""), MT_ERR_INVALID, "\"tags\"" },
        { SMALL(",\"tags\":[1]"), MT_ERR_INVALID, "\"tags\"" },
        { SMALL(",\"tags\":[\"a,b\"]"), MT_ERR_INVALID, "\"tags\"" },
        { SMALL(",\"tags\":[\"\"]"), MT_ERR_INVALID, "\"tags\"" },
        { SMALL(",\"tags\":[\"a\\u0001\"]"), MT_ERR_INVALID, "\"tags\"" },
        { SMALL(",\"ratio_limit\":-3"), MT_ERR_INVALID, "\"ratio_limit\"" },
        { SMALL(",\"ratio_limit\":9998.01"), MT_ERR_INVALID, "\"ratio_limit\"" },
        { SMALL(",\"ratio_limit\":\"1\""), MT_ERR_INVALID, "\"ratio_limit\"" },
        { SMALL(",\"ratio_limit\":1e999"), MT_ERR_INVALID, "" },
        { SMALL(",\"seeding_time_limit\":1.5"), MT_ERR_INVALID, "\"seeding_time_limit\"" },
        { SMALL(",\"seeding_time_limit\":-5"), MT_ERR_INVALID, "\"seeding_time_limit\"" },
        { SMALL(",\"force_start\":1"), MT_ERR_INVALID, "\"force_start\"" },
        { SMALL(",\"last_activity\":-1"), MT_ERR_INVALID, "\"last_activity\"" },
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
    /* tags are normalised: trimmed, sorted, each once */
    const char *j = cases[0].json;
    ck_assert_int_eq(pf_parse_met(j, strlen(j), &m, NULL), 0);
    text = pf_meta_to_json(m);
    ck_assert_ptr_nonnull(strstr(text, "\"tags\": [\n    \"a\",\n    \"b\"\n  ]"));
    free(text);
    pf_meta_free(m);
    /* more than 32 tags */
    char *many = xstrdup("\"0\"");
    for (int i = 1; i <= DLA_MAX_TAGS; i++) {
        char *n = xasprintf("%s,\"%d\"", many, i);
        free(many);
        many = n;
    }
    char *jm = xasprintf(SMALL(",\"tags\":[%s]"), many);
    ck_assert_int_eq(pf_parse_met(jm, strlen(jm), &m, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "at most 32"));
    mt_error_clear(&err);
    free(jm);
    free(many);
}
END_TEST

START_TEST(test_names)
{
    ck_assert(pf_name_is_valid("a"));
    ck_assert(pf_name_is_valid("...")); /* only "." and ".." are special */
    ck_assert(pf_name_is_valid("\xe6\x97\xa5\xe6\x9c\xac.txt"));
    ck_assert(!pf_name_is_valid(NULL));
    ck_assert(!pf_name_is_valid("\xed\xa0\x80")); /* a surrogate */
    char *s = pf_name_sanitize("a/b\x01\xff.txt", 100);
    ck_assert_str_eq(s, "a_b__.txt");
    free(s);
    s = pf_name_sanitize("..", 100);
    ck_assert_str_eq(s, "_");
    free(s);
    s = pf_name_sanitize("", 100);
    ck_assert_str_eq(s, "_");
    free(s);
    /* cut on a character boundary */
    s = pf_name_sanitize("abcdefg\xc3\xa9z", 8);
    ck_assert_str_eq(s, "abcdefg");
    free(s);
    s = pf_name_sanitize("\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5", 8);
    ck_assert_str_eq(s, "\xe6\x97\xa5\xe6\x9c\xac");
    ck_assert(pf_name_is_valid(s));
    free(s);
}
END_TEST

/* ---- completion ---- */

static partfile_t *
complete_download(uint64_t size, const char *name, ed2k_hash_result_t *hr)
{
    partfile_t *pf = new_download(size, name, true, hr);
    write_range_fast(pf, 0, size);
    for (size_t i = 0; i < pf_data_part_count(pf); i++)
        ck_assert_int_eq(verify(pf, i, false), PF_VERIFY_OK);
    ck_assert(pf_is_complete(pf));
    return pf;
}

static int
count_entries(const char *d)
{
    DIR *dd = opendir(d);
    ck_assert_ptr_nonnull(dd);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dd);
    return n;
}

START_TEST(test_complete_collisions)
{
    ed2k_hash_result_t hr;
    partfile_t *pf = complete_download(70000, "movie.avi", &hr);
    char *p0 = path_in(incoming, "movie.avi"), *p1 = path_in(incoming, "movie (1).avi");
    write_file(p0, "first");
    write_file(p1, "second");
    pf_complete_job_t *job = pf_complete_prepare(pf, incoming);
    ck_assert_ptr_null(pf_complete_path(job));
    mt_error_t *err = NULL;
    ck_assert_msg(pf_complete_run(job, &err) == 0, "%s", err ? err->message : "");
    char *want = path_in(incoming, "movie (2).avi");
    ck_assert_str_eq(pf_complete_path(job), want);
    check_disk_bytes(want, 0, 70000);
    char *t0 = read_file(p0, NULL), *t1 = read_file(p1, NULL);
    ck_assert_str_eq(t0, "first"); /* never overwritten */
    ck_assert_str_eq(t1, "second");
    ck_assert_int_eq(count_entries(incoming), 3);
    ck_assert_int_eq(count_entries(dir), 1); /* only incoming/ is left */
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
    free(t0);
    free(t1);
    free(want);
    free(p0);
    free(p1);

    /* no extension, and a name starting with a dot */
    pf = complete_download(10, "README", &hr);
    p0 = path_in(incoming, "README");
    write_file(p0, "x");
    job = pf_complete_prepare(pf, incoming);
    ck_assert_int_eq(pf_complete_run(job, NULL), 0);
    want = path_in(incoming, "README (1)");
    ck_assert_str_eq(pf_complete_path(job), want);
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
    free(want);
    free(p0);
    pf = complete_download(11, ".hidden", &hr);
    p0 = path_in(incoming, ".hidden");
    write_file(p0, "x");
    job = pf_complete_prepare(pf, incoming);
    ck_assert_int_eq(pf_complete_run(job, NULL), 0);
    want = path_in(incoming, ".hidden (1)");
    ck_assert_str_eq(pf_complete_path(job), want);
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
    free(want);
    free(p0);

    /* a name longer than a file name may be: cut, keeping the extension */
    char name[400];
    memset(name, 'n', 300);
    strcpy(name + 300, ".mkv");
    pf = complete_download(12, name, &hr);
    job = pf_complete_prepare(pf, incoming);
    ck_assert_int_eq(pf_complete_run(job, NULL), 0);
    const char *base = strrchr(pf_complete_path(job), '/') + 1;
    ck_assert_uint_eq(strlen(base), 255);
    ck_assert_str_eq(base + 251, ".mkv");
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
}
END_TEST

START_TEST(test_complete_copy)
{
    /* The cross-file-system path, forced: copy to a temporary name in the
     * target directory, then rename, then remove the source. */
    ed2k_hash_result_t hr;
    partfile_t *pf = complete_download(PS + 4000, "copy.bin", &hr);
    char *p0 = path_in(incoming, "copy.bin");
    write_file(p0, "taken");
    pf_complete_job_t *job = pf_complete_prepare(pf, incoming);
    pf_complete_force_copy(job);
    mt_error_t *err = NULL;
    ck_assert_msg(pf_complete_run(job, &err) == 0, "%s", err ? err->message : "");
    char *want = path_in(incoming, "copy (1).bin");
    ck_assert_str_eq(pf_complete_path(job), want);
    check_disk_bytes(want, 0, PS + 4000);
    ck_assert_int_eq(count_entries(incoming), 2); /* no temporary file left */
    ck_assert(!exists(pf_data_path(pf)));
    ck_assert(!exists(pf_met_path(pf)));
    char *t = read_file(p0, NULL);
    ck_assert_str_eq(t, "taken");
    free(t);
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);
    free(want);
    free(p0);

    /* A leftover temporary copy from a crash is replaced. */
    pf = complete_download(5000, "again.bin", &hr);
    char hex[33];
    ed2k_hash_to_hex(pf_hash(pf), hex);
    char *stale = xasprintf("%s/.%s.muleteer-copy", incoming, hex);
    write_file(stale, "half a file");
    job = pf_complete_prepare(pf, incoming);
    pf_complete_force_copy(job);
    ck_assert_int_eq(pf_complete_run(job, NULL), 0);
    ck_assert(!exists(stale));
    check_disk_bytes(pf_complete_path(job), 0, 5000);
    pf_complete_job_free(job);
    pf_free(pf);
    free(stale);
    ed2k_hash_result_clear(&hr);
}
END_TEST

START_TEST(test_move_file)
{
    /* pf_move_file, the copy path forced (another file system): the copy
     * gets dst's name, the source goes, no temporary file stays. */
    char *src = path_in(incoming, "m.bin"), *dst = path_in(dir, "m2.bin");
    write_file(src, "the content");
    size_t before = count_entries(dir);
    mt_error_t *err = NULL;
    ck_assert_msg(pf_move_file(src, dst, true, &err) == 0, "%s", err ? err->message : "");
    ck_assert(!exists(src));
    char *t = read_file(dst, NULL);
    ck_assert_str_eq(t, "the content");
    free(t);
    ck_assert_int_eq(count_entries(dir), before + 1);

    /* Never over an existing file: nothing changes, on either path. */
    write_file(src, "other");
    for (int force = 0; force <= 1; force++) {
        ck_assert_int_eq(pf_move_file(src, dst, force, &err), -1);
        ck_assert_int_eq(err->code, MT_ERR_EXISTS);
        mt_error_free(err);
        err = NULL;
        t = read_file(dst, NULL);
        ck_assert_str_eq(t, "the content");
        free(t);
        t = read_file(src, NULL);
        ck_assert_str_eq(t, "other");
        free(t);
        ck_assert_int_eq(count_entries(dir), before + 1);
    }

    /* A missing source: an error, nothing made. */
    char *none = path_in(incoming, "none.bin"), *dst2 = path_in(dir, "none.bin");
    ck_assert_int_eq(pf_move_file(none, dst2, true, &err), -1);
    mt_error_free(err);
    err = NULL;
    ck_assert(!exists(dst2));
    ck_assert_int_eq(count_entries(dir), before + 1);

    /* Within one file system: a rename. */
    ck_assert_int_eq(pf_move_file(src, dst2, false, NULL), 0);
    ck_assert(!exists(src));
    t = read_file(dst2, NULL);
    ck_assert_str_eq(t, "other");
    free(t);
    unlink(dst);
    unlink(dst2);
    free(src);
    free(dst);
    free(none);
    free(dst2);
}
END_TEST

START_TEST(test_complete_refused)
{
    ed2k_hash_result_t hr;
    /* not complete: no job */
    partfile_t *pf = new_download(1000, "x", true, &hr);
    ck_assert_ptr_null(pf_complete_prepare(pf, incoming));
    pf_free(pf);
    ed2k_hash_result_clear(&hr);

    /* data changed on disk after verification: the file hash check fails
     * and nothing moves */
    pf = complete_download(PS + 10, "bad.bin", &hr);
    int fd = open(pf_data_path(pf), O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "!", 1, 5), 1);
    close(fd);
    pf_complete_job_t *job = pf_complete_prepare(pf, incoming);
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_complete_run(job, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err->message, "file hash"));
    mt_error_clear(&err);
    ck_assert_ptr_null(pf_complete_path(job));
    ck_assert_int_eq(count_entries(incoming), 0);
    ck_assert(exists(pf_data_path(pf)));
    ck_assert(exists(pf_met_path(pf)));
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);

    /* a wrong AICH root refuses the move as well; the right one passes */
    pf = complete_download(3000, "aich.bin", &hr);
    uint8_t wrong[20];
    memcpy(wrong, hr.aich_root, 20);
    wrong[7] ^= 0x80;
    pf_set_aich_root(pf, wrong);
    job = pf_complete_prepare(pf, incoming);
    ck_assert_int_eq(pf_complete_run(job, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->message, "AICH"));
    mt_error_clear(&err);
    ck_assert_int_eq(count_entries(incoming), 0);
    pf_complete_job_free(job);
    pf_set_aich_root(pf, hr.aich_root);
    job = pf_complete_prepare(pf, incoming);
    ck_assert_int_eq(pf_complete_run(job, &err), 0);
    ck_assert_int_eq(count_entries(incoming), 1);
    pf_complete_job_free(job);
    pf_free(pf);
    ed2k_hash_result_clear(&hr);

    /* a missing incoming directory is an error, and nothing is lost */
    pf = complete_download(3000, "lost.bin", &hr);
    char *nodir = path_in(dir, "no-such-dir");
    job = pf_complete_prepare(pf, nodir);
    ck_assert_int_eq(pf_complete_run(job, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    mt_error_clear(&err);
    ck_assert(exists(pf_data_path(pf)));
    ck_assert(exists(pf_met_path(pf)));
    pf_complete_job_free(job);
    pf_free(pf);
    free(nodir);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* ---- descriptors: part files share a small cache (fdcache.h) ---- */

/* Descriptors this process has open. */
static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own */
}

/* Whether this process has a descriptor open on path. */
static bool
fd_open_on(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        char link[300], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            found = strcmp(target, path) == 0;
        }
    }
    closedir(d);
    return found;
}

/* The content of download k: distinct for every k. */
static uint8_t *
make_data_k(uint64_t size, unsigned k)
{
    uint8_t *d = xmalloc(size);
    for (uint64_t i = 0; i < size; i++)
        d[i] = byte_at(i + (uint64_t)k * 7919);
    return d;
}

static partfile_t *
new_download_k(uint64_t size, unsigned k, const uint8_t *data)
{
    ed2k_hash_result_t hr;
    ed2k_hash_memory(data, size, &hr);
    char name[32];
    snprintf(name, sizeof name, "many-%u.bin", k);
    mt_error_t *err = NULL;
    partfile_t *pf = pf_create(dir, hr.file_hash, size, name, &err);
    ck_assert_msg(pf != NULL, "pf_create %u: %s", k, err ? err->message : "?");
    ed2k_hash_result_clear(&hr);
    return pf;
}

#define N_MANY (PF_DEFAULT_OPEN_FILES + 16)
#define MANY_SIZE 300000u

/* More part files than the cache holds, written in turns packet by packet
 * (every write another file): at no time are more than the cache's
 * descriptors open, every byte lands where it belongs, and nothing is
 * left open once the downloads are freed. */
START_TEST(test_many_files_few_descriptors)
{
    int base = count_fds();
    partfile_t *pfs[N_MANY];
    uint8_t *data[N_MANY];
    for (unsigned k = 0; k < N_MANY; k++) {
        data[k] = make_data_k(MANY_SIZE, k);
        pfs[k] = new_download_k(MANY_SIZE, k, data[k]);
    }
    ck_assert_int_le(count_fds(), base + PF_DEFAULT_OPEN_FILES);
    int most = 0;
    for (uint64_t off = 0; off < MANY_SIZE; off += 10240) {
        size_t n = MANY_SIZE - off < 10240 ? (size_t)(MANY_SIZE - off) : 10240;
        for (unsigned k = 0; k < N_MANY; k++)
            if (pf_write(pfs[k], off, data[k] + off, n, NULL) != 0)
                ck_abort_msg("pf_write %u at %llu", k, (unsigned long long)off);
        int now = count_fds();
        most = now > most ? now : most;
    }
    ck_assert_int_le(most, base + PF_DEFAULT_OPEN_FILES);
    ck_assert_uint_eq(pf_open_files(), PF_DEFAULT_OPEN_FILES);
    for (unsigned k = 0; k < N_MANY; k++) {
        /* read back on the verification's own descriptor, and byte for byte */
        ck_assert_uint_eq(pf_done_bytes(pfs[k]), MANY_SIZE);
        ck_assert_int_eq(verify(pfs[k], 0, false), PF_VERIFY_OK);
        size_t len;
        char *disk = read_file(pf_data_path(pfs[k]), &len);
        ck_assert_uint_eq(len, MANY_SIZE);
        ck_assert_msg(memcmp(disk, data[k], MANY_SIZE) == 0, "download %u differs on disk", k);
        free(disk);
        save(pfs[k]);
    }
    ck_assert_int_le(count_fds(), base + PF_DEFAULT_OPEN_FILES);
    for (unsigned k = 0; k < N_MANY; k++)
        pf_free(pfs[k]);
    ck_assert_uint_eq(pf_open_files(), 0);
    ck_assert_int_eq(count_fds(), base);
    /* loading them all opens nothing for good either */
    n_loaded = n_failed = 0;
    ck_assert_int_eq(pf_load_dir(dir, on_loaded, on_failed, NULL), N_MANY);
    ck_assert_int_eq(n_failed, 0);
    ck_assert_int_eq(count_fds(), base);
    for (unsigned k = 0; k < N_MANY; k++)
        free(data[k]);
}
END_TEST

/* The least recently used descriptor is the one closed; a smaller maximum
 * applies at once. */
START_TEST(test_descriptor_lru)
{
    int base = count_fds();
    pf_set_max_open_files(2);
    uint8_t *data[3];
    partfile_t *pfs[3];
    for (unsigned k = 0; k < 3; k++) {
        data[k] = make_data_k(50000, k + 100);
        pfs[k] = new_download_k(50000, k + 100, data[k]);
    }
    ck_assert_int_eq(count_fds(), base); /* creating keeps nothing open */
    ck_assert_int_eq(pf_write(pfs[0], 0, data[0], 1000, NULL), 0);
    ck_assert_int_eq(pf_write(pfs[1], 0, data[1], 1000, NULL), 0);
    ck_assert_int_eq(pf_write(pfs[0], 1000, data[0] + 1000, 1000, NULL), 0); /* 0 is newer */
    ck_assert_int_eq(pf_write(pfs[2], 0, data[2], 1000, NULL), 0);
    ck_assert(fd_open_on(pf_data_path(pfs[0])));
    ck_assert(!fd_open_on(pf_data_path(pfs[1])));
    ck_assert(fd_open_on(pf_data_path(pfs[2])));
    ck_assert_int_eq(pf_write(pfs[1], 1000, data[1] + 1000, 1000, NULL), 0);
    ck_assert(!fd_open_on(pf_data_path(pfs[0])));
    ck_assert(fd_open_on(pf_data_path(pfs[1])));
    ck_assert_int_eq(count_fds(), base + 2);
    pf_set_max_open_files(1);
    ck_assert_int_eq(count_fds(), base + 1);
    ck_assert(fd_open_on(pf_data_path(pfs[1])));
    /* A download deleted or completed leaves no descriptor behind. */
    ck_assert_int_eq(pf_delete_files(pfs[1], NULL), 0);
    ck_assert_int_eq(count_fds(), base);
    for (unsigned k = 0; k < 3; k++) {
        pf_free(pfs[k]);
        free(data[k]);
    }
    ck_assert_int_eq(count_fds(), base);
    pf_set_max_open_files(PF_DEFAULT_OPEN_FILES);
}
END_TEST

/* Part files keep working when the process is out of descriptors: the
 * cache gives its idle ones up. */
START_TEST(test_descriptor_exhaustion)
{
    uint8_t *data[4];
    partfile_t *pfs[4];
    for (unsigned k = 0; k < 4; k++) {
        data[k] = make_data_k(20000, k + 200);
        pfs[k] = new_download_k(20000, k + 200, data[k]);
        ck_assert_int_eq(pf_write(pfs[k], 0, data[k], 5000, NULL), 0);
    }
    ck_assert_uint_eq(pf_open_files(), 4);
    /* every descriptor of the process is in use: no file can be opened
     * unless the cache closes one of its own */
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)count_fds() + 3; /* + stdin, stdout, stderr slack */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int hog[8], n_hog = 0;
    while (n_hog < 8 && (hog[n_hog] = open("/dev/null", O_RDONLY)) >= 0)
        n_hog++;
    ck_assert_int_eq(open("/dev/null", O_RDONLY), -1);
    uint8_t *more = make_data_k(20000, 300);
    partfile_t *extra = new_download_k(20000, 300, more); /* creating needs two */
    ck_assert_int_eq(pf_write(extra, 0, more, 20000, NULL), 0);
    for (unsigned k = 0; k < 4; k++)
        ck_assert_int_eq(pf_write(pfs[k], 5000, data[k] + 5000, 15000, NULL), 0);
    while (n_hog > 0)
        close(hog[--n_hog]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(verify(extra, 0, false), PF_VERIFY_OK);
    for (unsigned k = 0; k < 4; k++) {
        ck_assert_int_eq(verify(pfs[k], 0, false), PF_VERIFY_OK);
        pf_free(pfs[k]);
        free(data[k]);
    }
    pf_free(extra);
    free(more);
}
END_TEST

/* ---- a full disk ---- */

/* A write or a metadata save that meets a full disk is MT_ERR_NO_SPACE;
 * nothing is marked filled and the previous metadata stays as it was. A
 * short write (the disk filled in the middle of it) leaves no trace: the
 * bytes it put on disk are not filled and read as zeros again. */
START_TEST(test_no_space)
{
    ed2k_hash_result_t hr;
    const uint64_t size = 200000;
    partfile_t *pf = new_download(size, "full.bin", false, &hr);
    write_range(pf, 0, 50000);
    save(pf);
    char *met = xstrdup(pf_met_path(pf));
    char *tmp = xasprintf("%s.tmp", met);
    char *before = read_file(met, NULL);

    /* the metadata save: its temporary file is on a full device */
    ck_assert_int_eq(symlink("/dev/full", tmp), 0);
    write_range(pf, 50000, 60000);
    mt_error_t *err = NULL;
    ck_assert_int_eq(pf_save_now(pf, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_NO_SPACE);
    ck_assert_ptr_nonnull(strstr(err->message, "No space left on device"));
    mt_error_clear(&err);
    char *after = read_file(met, NULL);
    ck_assert_str_eq(before, after);
    free(after);
    ck_assert(!exists(tmp));
    ck_assert(pf_is_dirty(pf));
    save(pf);
    pf = reload(pf);
    ck_assert_uint_eq(pf_done_bytes(pf), 60000);

    /* a data write on a full device */
    char *data = xstrdup(pf_data_path(pf));
    char *aside = xasprintf("%s.aside", data);
    ck_assert_int_eq(rename(data, aside), 0);
    ck_assert_int_eq(symlink("/dev/full", data), 0);
    uint8_t buf[4096];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = byte_at(60000 + i);
    ck_assert_int_eq(pf_write(pf, 60000, buf, sizeof buf, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_NO_SPACE);
    mt_error_clear(&err);
    ck_assert_uint_eq(pf_done_bytes(pf), 60000);
    ck_assert(!pf_is_dirty(pf));
    pf_free(pf);
    ck_assert_int_eq(unlink(data), 0);
    ck_assert_int_eq(rename(aside, data), 0);
    pf = pf_load(met, &err);
    ck_assert_ptr_nonnull(pf);
    ck_assert_uint_eq(pf_done_bytes(pf), 60000);
    check_disk_bytes(data, 0, 60000);
    pf_free(pf);

    /* a short write: the file size limit cuts a write in the middle (a new
     * download, whose gaps are holes that read as zeros) */
    uint8_t *content = make_data_k(size, 400);
    for (size_t i = 0; i < size; i++)
        content[i] |= 1; /* no zero byte */
    pf = new_download_k(size, 400, content);
    ck_assert_int_eq(pf_write(pf, 0, content, 60000, NULL), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100000;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ck_assert_int_eq(pf_write(pf, 90000, content + 90000, 20000, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    mt_error_clear(&err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    ck_assert_uint_eq(pf_done_bytes(pf), 60000);
    uint8_t *back = xmalloc(20000);
    int fd = open(pf_data_path(pf), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, back, 20000, 90000), 20000);
    close(fd);
    for (size_t i = 0; i < 20000; i++)
        if (back[i] != 0)
            ck_abort_msg("byte %zu of the failed write is on disk", 90000 + i);
    free(back);
    /* the download goes on: the rest is written, the part matches */
    ck_assert_int_eq(pf_write(pf, 60000, content + 60000, size - 60000, NULL), 0);
    ck_assert_int_eq(verify(pf, 0, false), PF_VERIFY_OK);
    size_t len;
    char *disk = read_file(pf_data_path(pf), &len);
    ck_assert_uint_eq(len, size);
    ck_assert(memcmp(disk, content, size) == 0);
    free(disk);
    free(content);
    pf_free(pf);
    free(data);
    free(aside);
    free(before);
    free(met);
    free(tmp);
    ed2k_hash_result_clear(&hr);
}
END_TEST

/* Creating a download that cannot be created leaves nothing behind. */
START_TEST(test_create_leaves_nothing)
{
    ed2k_hash_result_t hr;
    uint8_t *d = make_data(5000);
    ed2k_hash_memory(d, 5000, &hr);
    free(d);
    char hex[33];
    ed2k_hash_to_hex(hr.file_hash, hex);
    /* the metadata cannot be written (a full device under its name) */
    char *tmp = xasprintf("%s/%s.part.met.tmp", dir, hex);
    ck_assert_int_eq(symlink("/dev/full", tmp), 0);
    mt_error_t *err = NULL;
    ck_assert_ptr_null(pf_create(dir, hr.file_hash, 5000, "nothing.bin", &err));
    ck_assert_int_eq(err->code, MT_ERR_NO_SPACE);
    mt_error_clear(&err);
    ck_assert_int_eq(count_entries(dir), 1); /* incoming/ */
    /* no descriptor to be had */
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)count_fds() + 3;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int hog[8], n_hog = 0;
    while (n_hog < 8 && (hog[n_hog] = open("/dev/null", O_RDONLY)) >= 0)
        n_hog++;
    partfile_t *pf = pf_create(dir, hr.file_hash, 5000, "nothing.bin", &err);
    while (n_hog > 0)
        close(hog[--n_hog]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_ptr_null(pf);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err->message, "Too many open files"));
    mt_error_clear(&err);
    ck_assert_int_eq(count_entries(dir), 1);
    free(tmp);
    ed2k_hash_result_clear(&hr);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("partfile");
    TCase *tc = tcase_create("partfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_parse_small);
    tcase_add_test(tc, test_parse_multipart);
    tcase_add_test(tc, test_crash_model);
    tcase_add_test(tc, test_kill9);
    tcase_add_test(tc, test_atomic_save);
    tcase_add_test(tc, test_save_jobs_order);
    tcase_add_test(tc, test_corrupt_part_discarded);
    tcase_add_test(tc, test_corrupt_blocks_kept);
    tcase_add_test(tc, test_part_states);
    tcase_add_test(tc, test_zero_holes);
    tcase_add_test(tc, test_verified_writes_ignored);
    tcase_add_test(tc, test_verify_stale_and_io_error);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_sparse_large);
    tcase_add_test(tc, test_load_dir);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_sources);
    tcase_add_test(tc, test_setters);
    tcase_add_test(tc, test_attrs);
    tcase_add_test(tc, test_btih);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_complete_collisions);
    tcase_add_test(tc, test_complete_copy);
    tcase_add_test(tc, test_complete_refused);
    tcase_add_test(tc, test_move_file);
    tcase_add_test(tc, test_many_files_few_descriptors);
    tcase_add_test(tc, test_descriptor_lru);
    tcase_add_test(tc, test_descriptor_exhaustion);
    tcase_add_test(tc, test_no_space);
    tcase_add_test(tc, test_create_leaves_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
