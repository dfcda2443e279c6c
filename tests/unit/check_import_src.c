/* check_import_src.c: unit tests for daemon/ctl/import_src: an aMule and
 * an eMule configuration directory read for an import (directories,
 * fallbacks for paths of another machine, categories, shareddir.dat in
 * UTF-8 and UTF-16LE, limits), and what is refused. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/ctl/import_src.h"
#include "util/xalloc.h"

static char root[64];

static void
put(const char *rel, const void *data, size_t len)
{
    char *p = xasprintf("%s/%s", root, rel);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(data, 1, len, f);
    fclose(f);
    free(p);
}

static void
mk(const char *rel)
{
    char *p = xasprintf("%s/%s", root, rel);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    free(p);
}

static void
setup(void)
{
    snprintf(root, sizeof root, "/tmp/check_import_src.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

START_TEST(test_amule)
{
    mk("Temp");
    mk("inc");
    mk("share1");
    char *conf = xasprintf("[eMule]\nTempDir=/nonexistent/Temp\nIncomingDir=%s/inc\n"
                           "MaxUpload=65535\nMaxDownload=120\nPort=4662\nUDPPort=4672\n"
                           "[General]\nCount=2\n[Cat#1]\nTitle=movies\nIncoming=/x/movies\n"
                           "Comment=films\n[Cat#2]\nTitle=\n[Cat#0]\nTitle=all\n",
                           root);
    put("amule.conf", conf, strlen(conf));
    char *dirs = xasprintf("%s/share1/\n/nonexistent\nrelative\n\n", root);
    put("shareddir.dat", dirs, strlen(dirs));
    mt_error_t *err = NULL;
    imp_src_t *s = imp_src_open(root, NULL, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->kind, "amule");
    char *want = xasprintf("%s/Temp", root);
    ck_assert_str_eq(s->temp_dir, want); /* the configured one is not here */
    free(want);
    want = xasprintf("%s/inc", root);
    ck_assert_str_eq(s->incoming_dir, want);
    free(want);
    ck_assert_str_eq(s->met_dir, root);
    ck_assert_uint_eq(s->n_cats, 1);
    ck_assert_uint_eq(s->cats[0].index, 1);
    ck_assert_str_eq(s->cats[0].title, "movies");
    ck_assert_str_eq(s->cats[0].incoming, "/x/movies");
    ck_assert_str_eq(s->cats[0].comment, "films");
    ck_assert_str_eq(imp_src_category(s, 1), "movies");
    ck_assert_ptr_null(imp_src_category(s, 0));
    ck_assert_ptr_null(imp_src_category(s, 2));
    ck_assert_uint_eq(s->n_shared_dirs, 1);
    want = xasprintf("%s/share1", root);
    ck_assert_str_eq(s->shared_dirs[0], want);
    free(want);
    ck_assert_int_eq(s->max_upload, 65535);
    ck_assert_int_eq(s->max_download, 120);
    ck_assert_int_eq(s->tcp_port, 4662);
    char *p = imp_src_path(s, "known.met");
    want = xasprintf("%s/known.met", root);
    ck_assert_str_eq(p, want);
    free(want);
    free(p);
    imp_src_free(s);
    free(conf);
    free(dirs);
}
END_TEST

START_TEST(test_emule)
{
    mk("config");
    mk("Temp");
    mk("Incoming");
    mk("share é");
    const char *prefs = "[eMule]\r\nTempDir=C:\\eMule\\Temp\r\nIncomingDir=C:\\eMule\\Incoming\r\n"
                        "MaxUpload=abc\r\n";
    put("config/preferences.ini", prefs, strlen(prefs));
    const char *cats = "[General]\r\nCount=1\r\n[Cat#1]\r\nTitle=music\r\nIncoming=D:\\music\r\n";
    put("config/Category.ini", cats, strlen(cats));
    /* UTF-16LE with a BOM: our directory, then a Windows path */
    char *line = xasprintf("%s/share \xc3\xa9\r\nC:\\Users\r\n", root);
    size_t n = strlen(line);
    uint8_t *u16 = xcalloc(2 * n + 2, 1);
    u16[0] = 0xFF;
    u16[1] = 0xFE;
    size_t o = 2;
    for (size_t i = 0; i < n; i++) {
        if ((uint8_t)line[i] == 0xc3) { /* é: U+00E9 */
            u16[o] = 0xE9;
            i++;
        } else {
            u16[o] = (uint8_t)line[i];
        }
        o += 2;
    }
    put("config/shareddir.dat", u16, o);
    imp_src_t *s = imp_src_open(root, "emule", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->kind, "emule");
    char *want = xasprintf("%s/config", root);
    ck_assert_str_eq(s->met_dir, want);
    free(want);
    want = xasprintf("%s/Incoming", root);
    ck_assert_str_eq(s->incoming_dir, want);
    free(want);
    ck_assert_uint_eq(s->n_cats, 1);
    ck_assert_str_eq(imp_src_category(s, 1), "music");
    ck_assert_uint_eq(s->n_shared_dirs, 1);
    want = xasprintf("%s/share \xc3\xa9", root);
    ck_assert_str_eq(s->shared_dirs[0], want);
    free(want);
    ck_assert_int_eq(s->max_upload, -1);
    ck_assert_int_eq(s->tcp_port, -1);
    imp_src_free(s);
    free(u16);
    free(line);
}
END_TEST

START_TEST(test_refused)
{
    mt_error_t *err = NULL;
    ck_assert_ptr_null(imp_src_open(root, NULL, &err));
    ck_assert_int_eq(err->code, MT_ERR_NOT_FOUND);
    mt_error_free(err);
    err = NULL;
    put("amule.conf", "", 0);
    ck_assert_ptr_null(imp_src_open(root, "mldonkey", &err));
    ck_assert_int_eq(err->code, MT_ERR_INVALID);
    mt_error_free(err);
    imp_src_t *s = imp_src_open(root, NULL, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(s->temp_dir);
    ck_assert_uint_eq(s->n_cats, 0);
    imp_src_free(s);
}
END_TEST

int
main(void)
{
    Suite *su = suite_create("import_src");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_amule);
    tcase_add_test(tc, test_emule);
    tcase_add_test(tc, test_refused);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
