/* check_ed2k_hash.c: unit tests for lib/ed2k/hash: the §11.1 vectors through
 * files and odd-sized chunks, the threaded file hasher against the streaming
 * one, read errors, part counts, hex/base32, and rhash as oracle. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ed2k/hash.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A temporary directory made once per test case (in the parent process, so
 * it is removed even when a forked test fails). */
static char tmpdir[256];

static void
tmpdir_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/check_ed2k_hash.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static void
tmpdir_teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", tmpdir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* write_file: size bytes of fill, or of a seeded xorshift stream when
 * seed != 0. Returns the path (caller frees). */
static char *
write_file(const char *name, uint64_t size, uint8_t fill, uint64_t seed)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    enum { BUF = 1 << 16 };
    uint8_t *buf = xmalloc(BUF);
    uint64_t x = seed;
    for (uint64_t done = 0; done < size;) {
        size_t n = size - done < BUF ? (size_t)(size - done) : BUF;
        if (seed == 0) {
            memset(buf, fill, n);
        } else {
            for (size_t i = 0; i < n; i += 8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                size_t k = n - i < 8 ? n - i : 8;
                memcpy(buf + i, &x, k);
            }
        }
        ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
        done += n;
    }
    free(buf);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static void
hex_of(const uint8_t h[ED2K_HASH_LEN], char out[ED2K_HASH_HEX_LEN + 1])
{
    ed2k_hash_to_hex(h, out);
}

struct vector {
    const char *name;
    uint64_t size;
    uint8_t fill;
    const char *hash;
    const char *parts[3];
    const char *aich;
};

/* §11.1, every row. */
static const struct vector vectors[] = {
    { "empty", 0, 0, "31d6cfe0d16ae931b73c59d7e0c089c0", { NULL },
      "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ" },
    { "a", 1, 'a', "bde52cb31de33e46245e05fbdbd6fb24", { NULL },
      "Q336IN72UWT7ZYK5DXOLT2XK5I3XMZ5Y" },
    { "zero1", 1, 0, "47c61a0fa8738ba77308a8a600f88e4b", { NULL },
      "LOUTZHNQZ74T6UVVEHLUEDSD63W2E6CP" },
    { "zero184320", 184320, 0, "6f212ba6c3154035d585c1bb9dc878fb", { NULL },
      "73MH2FDSJJRJDPC4FXVI2BMUVNG7XU7G" },
    { "zero184321", 184321, 0, "b761f20737a67e2bfeb4b0ecca7d564c", { NULL },
      "WVB2LVC5WFGUSVWL5X6SPN5WHWEJ6HF4" },
    { "zero9728000", 9728000, 0, "fc21d9af828f92a8df64beac3357425d",
      { "d7def262a127cd79096a108e7a9fc138", "31d6cfe0d16ae931b73c59d7e0c089c0" },
      "5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7B" },
    { "zero9728001", 9728001, 0, "06329e9dba1373512c06386fe29e3c65",
      { "d7def262a127cd79096a108e7a9fc138", "47c61a0fa8738ba77308a8a600f88e4b" },
      "HL3TFXORIUEPXUWFPY3JLR7SMKGTO4IH" },
    { "zero19456000", 19456000, 0, "114b21c63a74b6ca922291a11177dd5c",
      { "d7def262a127cd79096a108e7a9fc138", "d7def262a127cd79096a108e7a9fc138",
        "31d6cfe0d16ae931b73c59d7e0c089c0" },
      "EEXRXRAV5SIJN5I2EITKIBPCXQ6QWG4E" },
};

static void
check_result(const struct vector *v, const ed2k_hash_result_t *r, const char *how)
{
    char hex[ED2K_HASH_HEX_LEN + 1], b32[ED2K_AICH_B32_LEN + 1];
    ck_assert_msg(r->size == v->size, "%s %s: size", v->name, how);
    hex_of(r->file_hash, hex);
    ck_assert_msg(strcmp(hex, v->hash) == 0, "%s %s: hash %s, want %s", v->name, how, hex,
                  v->hash);
    size_t nparts = 0;
    while (nparts < 3 && v->parts[nparts] != NULL)
        nparts++;
    ck_assert_msg(r->n_part_hashes == nparts, "%s %s: %zu part hashes, want %zu", v->name, how,
                  r->n_part_hashes, nparts);
    ck_assert_uint_eq(r->n_part_hashes, ed2k_hash_count(v->size));
    ck_assert(nparts > 0 || r->part_hashes == NULL);
    for (size_t i = 0; i < nparts; i++) {
        hex_of(r->part_hashes[i], hex);
        ck_assert_msg(strcmp(hex, v->parts[i]) == 0, "%s %s: part %zu is %s, want %s", v->name,
                      how, i, hex, v->parts[i]);
    }
    ed2k_aich_to_base32(r->aich_root, b32);
    ck_assert_msg(strcmp(b32, v->aich) == 0, "%s %s: AICH %s, want %s", v->name, how, b32,
                  v->aich);
}

START_TEST(test_md4)
{
    uint8_t h[ED2K_HASH_LEN];
    char hex[ED2K_HASH_HEX_LEN + 1];
    ed2k_md4("", 0, h);
    hex_of(h, hex);
    ck_assert_str_eq(hex, "31d6cfe0d16ae931b73c59d7e0c089c0");
    ed2k_md4("abc", 3, h);
    hex_of(h, hex);
    ck_assert_str_eq(hex, "a448017aaf21d8525fc10ae87aa6729d");
}
END_TEST

/* One §11.1 row: written to a file, hashed by ed2k_hash_file and streamed
 * through a hasher in chunks of 1, 7, 64 KiB and 1 MiB + 3 bytes. */
START_TEST(test_vectors)
{
    const struct vector *v = &vectors[_i];
    char *path = write_file(v->name, v->size, v->fill, 0);
    ed2k_hash_result_t r;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_hash_file(path, &r, &err), 0);
    ck_assert_ptr_null(err);
    check_result(v, &r, "ed2k_hash_file");
    ed2k_hash_result_clear(&r);
    ck_assert_ptr_null(r.part_hashes);

    static const size_t chunks[] = { 1, 7, 65536, (1 << 20) + 3 };
    ed2k_hasher_t *h = ed2k_hasher_new();
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        /* One-byte chunks only up to one part and a byte, for time. */
        if (chunks[c] == 1 && v->size > ED2K_PARTSIZE + 1)
            continue;
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        uint8_t *buf = xmalloc(chunks[c]);
        size_t n;
        while ((n = fread(buf, 1, chunks[c], f)) > 0)
            ed2k_hasher_update(h, buf, n);
        fclose(f);
        free(buf);
        ck_assert(ed2k_hasher_size(h) == v->size);
        ed2k_hasher_finish(h, &r); /* and the hasher is reused: finish resets it */
        char how[64];
        snprintf(how, sizeof how, "chunks of %zu", chunks[c]);
        check_result(v, &r, how);
        ed2k_hash_result_clear(&r);
    }
    ed2k_hasher_free(h);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_hash_memory_and_free_null)
{
    ed2k_hash_result_t r;
    ed2k_hash_memory("a", 1, &r);
    char hex[ED2K_HASH_HEX_LEN + 1];
    hex_of(r.file_hash, hex);
    ck_assert_str_eq(hex, "bde52cb31de33e46245e05fbdbd6fb24");
    ck_assert_uint_eq(r.n_part_hashes, 0);
    ed2k_hash_result_clear(&r);
    ed2k_hash_result_clear(NULL);
    ed2k_hasher_free(NULL);
}
END_TEST

START_TEST(test_hash_file_errors)
{
    ed2k_hash_result_t r;
    mt_error_t *err = NULL;
    char *path = xasprintf("%s/does-not-exist", tmpdir);
    ck_assert_int_eq(ed2k_hash_file(path, &r, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err->message, path));
    mt_error_free(err);
    err = NULL;
    /* A directory opens but cannot be read. */
    ck_assert_int_eq(ed2k_hash_file(tmpdir, &r, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    mt_error_free(err);
    free(path);
}
END_TEST

/* Sizes around the part boundaries: ed2k_hash_file hashes a file of two
 * data parts or more on two threads, part by part; below that on one. */
static const uint64_t threaded_sizes[] = {
    0, 1, ED2K_PARTSIZE - 1, ED2K_PARTSIZE, ED2K_PARTSIZE + 1,
    2 * ED2K_PARTSIZE,            /* exact multiple, threaded */
    3 * ED2K_PARTSIZE + 200003,   /* 3 parts and a bit */
    7 * ED2K_PARTSIZE + 184321,   /* odd part count: one thread does more */
};

static void
assert_same_result(const ed2k_hash_result_t *a, const ed2k_hash_result_t *b, uint64_t size)
{
    ck_assert_msg(a->size == size && b->size == size, "size %llu", (unsigned long long)size);
    ck_assert_msg(memcmp(a->file_hash, b->file_hash, ED2K_HASH_LEN) == 0,
                  "size %llu: file hashes differ", (unsigned long long)size);
    ck_assert_msg(memcmp(a->aich_root, b->aich_root, ED2K_AICH_LEN) == 0,
                  "size %llu: AICH roots differ", (unsigned long long)size);
    ck_assert_uint_eq(a->n_part_hashes, b->n_part_hashes);
    ck_assert_uint_eq(a->n_part_hashes, ed2k_hash_count(size));
    if (a->n_part_hashes > 0)
        ck_assert(memcmp(a->part_hashes, b->part_hashes, a->n_part_hashes * ED2K_HASH_LEN) == 0);
}

/* ed2k_hash_file (threaded for two parts or more) gives exactly what the
 * streaming hasher gives, fed with odd-sized chunks, on random data. */
START_TEST(test_threaded_matches_streaming)
{
    uint64_t size = threaded_sizes[_i];
    char name[32];
    snprintf(name, sizeof name, "threaded%d", _i);
    char *path = write_file(name, size, 0, 0x2545F4914F6CDD1DULL + (uint64_t)_i);

    ed2k_hash_result_t par;
    mt_error_t *err = NULL;
    ck_assert_int_eq(ed2k_hash_file(path, &par, &err), 0);
    ck_assert_ptr_null(err);

    ed2k_hasher_t *h = ed2k_hasher_new();
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    enum { CHUNK = 99991 }; /* a prime: chunks straddle blocks and parts */
    uint8_t *buf = xmalloc(CHUNK);
    size_t n;
    while ((n = fread(buf, 1, CHUNK, f)) > 0)
        ed2k_hasher_update(h, buf, n);
    fclose(f);
    free(buf);
    ed2k_hash_result_t seq;
    ed2k_hasher_finish(h, &seq);
    ed2k_hasher_free(h);
    assert_same_result(&par, &seq, size);

    /* The same through an open descriptor, whose offset stays where it was;
     * and a pipe of the same bytes takes the read() path. */
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)lseek(fd, 5, SEEK_SET), 5);
    ed2k_hash_result_t viafd;
    ck_assert_int_eq(ed2k_hash_fd(fd, name, &viafd, NULL), 0);
    ck_assert_int_eq((int)lseek(fd, 0, SEEK_CUR), 5);
    close(fd);
    assert_same_result(&viafd, &seq, size);
    ed2k_hash_result_clear(&viafd);
    if (size <= 2 * ED2K_PARTSIZE) {
        char *cmd = xasprintf("cat '%s'", path);
        FILE *p = popen(cmd, "r");
        free(cmd);
        ck_assert_ptr_nonnull(p);
        ed2k_hash_result_t viapipe;
        ck_assert_int_eq(ed2k_hash_fd(fileno(p), "a pipe", &viapipe, NULL), 0);
        ck_assert_int_eq(pclose(p), 0);
        assert_same_result(&viapipe, &seq, size);
        ed2k_hash_result_clear(&viapipe);
    }

    ed2k_hash_result_clear(&par);
    ed2k_hash_result_clear(&seq);
    unlink(path);
    free(path);
}
END_TEST

/* Read errors in the threaded path come back as one MT_ERR_IO naming the
 * file, with both threads stopped and joined (no leak, no hang). */
START_TEST(test_threaded_read_errors)
{
    uint64_t size = 3 * ED2K_PARTSIZE + 7;
    char *path = write_file("unreadable", size, 0x5a, 0);
    ed2k_hash_result_t r;
    mt_error_t *err = NULL;

    /* A descriptor open for writing only: every pread fails with EBADF. */
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ed2k_hash_fd(fd, path, &r, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->code, MT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err->message, path));
    ck_assert_ptr_nonnull(strstr(err->message, strerror(EBADF)));
    mt_error_clear(&err);
    close(fd);

    /* Without read permission (root reads anyway: then it just works). */
    ck_assert_int_eq(chmod(path, 0), 0);
    if (geteuid() != 0) {
        ck_assert_int_eq(ed2k_hash_file(path, &r, &err), -1);
        ck_assert_int_eq(err->code, MT_ERR_IO);
        ck_assert_ptr_nonnull(strstr(err->message, path));
        ck_assert_ptr_nonnull(strstr(err->message, strerror(EACCES)));
        mt_error_clear(&err);
    } else {
        ck_assert_int_eq(ed2k_hash_file(path, &r, &err), 0);
        ed2k_hash_result_clear(&r);
    }

    /* Over the eD2K maximum (a sparse file): refused before any read. */
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(truncate(path, (off_t)ED2K_MAX_FILE_SIZE + 1), 0);
    ck_assert_int_eq(ed2k_hash_file(path, &r, &err), -1);
    ck_assert_int_eq(err->code, MT_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(err->message, path));
    mt_error_clear(&err);

    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_part_counts)
{
    const uint64_t P = ED2K_PARTSIZE;
    /* §6.2: size, data parts, ED2K parts, hash count. */
    static const struct {
        uint64_t size, data, parts, hashes;
    } rows[] = {
        { 1, 1, 1, 0 },
        { ED2K_PARTSIZE - 1, 1, 1, 0 },
        { ED2K_PARTSIZE, 1, 2, 2 },
        { ED2K_PARTSIZE + 1, 2, 2, 2 },
        { 2 * ED2K_PARTSIZE, 2, 3, 3 },
        { 2 * ED2K_PARTSIZE + 1, 3, 3, 3 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ck_assert_uint_eq(ed2k_data_part_count(rows[i].size), rows[i].data);
        ck_assert_uint_eq(ed2k_part_count(rows[i].size), rows[i].parts);
        ck_assert_uint_eq(ed2k_hash_count(rows[i].size), rows[i].hashes);
    }
    ck_assert_uint_eq(ed2k_data_part_count(0), 0);
    ck_assert_uint_eq(ed2k_part_count(0), 1);
    ck_assert_uint_eq(ed2k_hash_count(0), 0);
    /* 64-bit sizes: 5 GiB and the 256 GiB maximum. */
    uint64_t five = 5ULL << 30;
    ck_assert_uint_eq(ed2k_part_count(five), five / P + 1);
    ck_assert_uint_eq(ed2k_data_part_count(five), 552);
    ck_assert_uint_eq(ed2k_part_count(ED2K_MAX_FILE_SIZE), 28257);
}
END_TEST

START_TEST(test_hex)
{
    uint8_t h[ED2K_HASH_LEN];
    char hex[ED2K_HASH_HEX_LEN + 1];
    ck_assert_int_eq(ed2k_hash_from_hex("FC21D9AF828F92A8df64beac3357425d", h), 0);
    ed2k_hash_to_hex(h, hex);
    ck_assert_str_eq(hex, "fc21d9af828f92a8df64beac3357425d");
    ck_assert_uint_eq(h[0], 0xfc);
    ck_assert_uint_eq(h[15], 0x5d);
    uint8_t keep[ED2K_HASH_LEN];
    memcpy(keep, h, sizeof keep);
    static const char *const bad[] = {
        "",
        "fc21d9af828f92a8df64beac3357425",   /* 31 */
        "fc21d9af828f92a8df64beac3357425d0", /* 33 */
        "fc21d9af828f92a8df64beac3357425g",
        " fc21d9af828f92a8df64beac3357425d",
        "fc21d9af828f92a8df64beac3357425 ",
        "0xfc21d9af828f92a8df64beac335742",
        "fc21d9af828f92a8-f64beac3357425d",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(ed2k_hash_from_hex(bad[i], h) == -1, "accepted \"%s\"", bad[i]);
        ck_assert(memcmp(h, keep, sizeof keep) == 0); /* untouched on failure */
    }
    ck_assert_int_eq(ed2k_hash_from_hexn("31d6cfe0d16ae931b73c59d7e0c089c0xyz", 32, h), 0);
    ck_assert_int_eq(ed2k_hash_from_hexn("31d6cfe0d16ae931b73c59d7e0c089c0", 31, h), -1);
}
END_TEST

START_TEST(test_base32)
{
    /* RFC 4648 §10 without padding. */
    static const char *const rfc[][2] = {
        { "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
        { "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
    };
    char out[64];
    uint8_t dec[16];
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        size_t n = strlen(rfc[i][0]);
        ck_assert_uint_eq(ed2k_base32_len(n), strlen(rfc[i][1]));
        ck_assert_uint_eq(ed2k_base32_encode((const uint8_t *)rfc[i][0], n, out),
                          strlen(rfc[i][1]));
        ck_assert_str_eq(out, rfc[i][1]);
        ck_assert_int_eq(ed2k_base32_decode(rfc[i][1], strlen(rfc[i][1]), dec, sizeof dec),
                         (long)n);
        ck_assert(memcmp(dec, rfc[i][0], n) == 0);
        /* Lower case decodes the same. */
        char lower[16];
        for (size_t k = 0; k <= strlen(rfc[i][1]); k++)
            lower[k] = (char)(rfc[i][1][k] >= 'A' && rfc[i][1][k] <= 'Z' ? rfc[i][1][k] + 32
                                                                         : rfc[i][1][k]);
        ck_assert_int_eq(ed2k_base32_decode(lower, strlen(lower), dec, sizeof dec), (long)n);
        ck_assert(memcmp(dec, rfc[i][0], n) == 0);
    }
    ck_assert_int_eq(ed2k_base32_decode("MY======", 8, dec, sizeof dec), -1); /* padding */
    ck_assert_int_eq(ed2k_base32_decode("MZ", 2, dec, sizeof dec), -1); /* trailing bits */
    ck_assert_int_eq(ed2k_base32_decode("M", 1, dec, sizeof dec), -1);  /* length */
    ck_assert_int_eq(ed2k_base32_decode("MZX", 3, dec, sizeof dec), -1);
    ck_assert_int_eq(ed2k_base32_decode("MZXW6Y", 6, dec, sizeof dec), -1);
    ck_assert_int_eq(ed2k_base32_decode("MZ0Q", 4, dec, sizeof dec), -1); /* '0' */
    ck_assert_int_eq(ed2k_base32_decode("MZ1Q", 4, dec, sizeof dec), -1); /* '1' */
    ck_assert_int_eq(ed2k_base32_decode("MZ8Q", 4, dec, sizeof dec), -1); /* '8' */
    ck_assert_int_eq(ed2k_base32_decode("MZXW6YTBOI", 10, dec, 5), -1);   /* no room */

    uint8_t root[ED2K_AICH_LEN];
    char b32[ED2K_AICH_B32_LEN + 1];
    ck_assert_int_eq(ed2k_aich_from_base32("5d3n4hqhiumq7iu7a5qlpli6rhswor7b", 32, root), 0);
    ed2k_aich_to_base32(root, b32);
    ck_assert_str_eq(b32, "5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7B");
    ck_assert_int_eq(ed2k_aich_from_base32("5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7", 31, root), -1);
    ck_assert_int_eq(ed2k_aich_from_base32("5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7BA", 33, root), -1);
    ck_assert_int_eq(ed2k_aich_from_base32("5D3N4HQHIUMQ7IU7A5QLPLI6RHSWOR7!", 32, root), -1);
}
END_TEST

/* run_rhash: rhash's ed2k hash and AICH root of path, lower case. */
static void
run_rhash(const char *path, char *ed2k, char *aich)
{
    char *cmd = xasprintf("rhash --ed2k --aich --printf='%%{ed2k} %%{aich}\\n' '%s' 2>&1", path);
    FILE *p = popen(cmd, "r");
    free(cmd);
    ck_assert_ptr_nonnull(p);
    char line[512] = "";
    char *got = fgets(line, sizeof line, p);
    int st = pclose(p);
    ck_assert_msg(!(WIFEXITED(st) && WEXITSTATUS(st) == 127),
                  "rhash is not installed: the hash oracle test needs it "
                  "(on Debian: apt-get install rhash)");
    ck_assert_msg(got != NULL && WIFEXITED(st) && WEXITSTATUS(st) == 0, "rhash failed: %s", line);
    ck_assert_int_eq(sscanf(line, "%32s %32s", ed2k, aich), 2);
}

/* Pseudo-random multi-part files hashed by us and by rhash 1.4 (an
 * independent implementation; §11.1 used the same sizes). 48,640,000 is an
 * exact multiple of PARTSIZE. */
START_TEST(test_rhash_oracle)
{
    static const struct {
        uint64_t size, seed;
    } files[] = { { 29196345, 0x9E3779B97F4A7C15ULL }, { 48640000, 0xD1B54A32D192ED03ULL } };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "random%zu", i);
        char *path = write_file(name, files[i].size, 0, files[i].seed);
        ed2k_hash_result_t r;
        ck_assert_int_eq(ed2k_hash_file(path, &r, NULL), 0);
        char ed2k[33], aich[33], ours_hex[33], ours_b32[33];
        run_rhash(path, ed2k, aich);
        hex_of(r.file_hash, ours_hex);
        ed2k_aich_to_base32(r.aich_root, ours_b32);
        for (char *c = ours_b32; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        ck_assert_msg(strcmp(ours_hex, ed2k) == 0, "%s: ed2k %s, rhash %s", name, ours_hex, ed2k);
        ck_assert_msg(strcmp(ours_b32, aich) == 0, "%s: AICH %s, rhash %s", name, ours_b32, aich);
        ck_assert_uint_eq(r.n_part_hashes, ed2k_hash_count(files[i].size));
        /* The part hashes are consistent with the file hash. */
        uint8_t md4[ED2K_HASH_LEN];
        ed2k_parthashes_md4((const uint8_t (*)[ED2K_HASH_LEN])r.part_hashes, r.n_part_hashes, md4);
        ck_assert(memcmp(md4, r.file_hash, ED2K_HASH_LEN) == 0);
        ed2k_hash_result_clear(&r);
        unlink(path);
        free(path);
    }
}
END_TEST

static Suite *
hash_suite(void)
{
    Suite *s = suite_create("ed2k_hash");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_md4);
    tcase_add_loop_test(tc, test_vectors, 0, sizeof vectors / sizeof vectors[0]);
    tcase_add_test(tc, test_hash_memory_and_free_null);
    tcase_add_test(tc, test_hash_file_errors);
    tcase_add_loop_test(tc, test_threaded_matches_streaming, 0,
                        sizeof threaded_sizes / sizeof threaded_sizes[0]);
    tcase_add_test(tc, test_threaded_read_errors);
    tcase_add_test(tc, test_part_counts);
    tcase_add_test(tc, test_hex);
    tcase_add_test(tc, test_base32);
    tcase_add_test(tc, test_rhash_oracle);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(hash_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
