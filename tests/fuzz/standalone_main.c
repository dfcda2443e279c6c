/* standalone_main.c: runs a libFuzzer target over its checked-in corpus
 * without libFuzzer, as a TAP test, so every build (gcc, sanitizers) replays
 * the corpus in `make check`. FUZZ_CORPUS names the corpus directory; files
 * given on the command line are run instead when present. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_run;

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("not ok %d - cannot open %s\n", ++n_run, path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf == NULL)
        abort();
    /* Copy into an exact-size allocation so ASan sees overreads. */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    printf("ok %d - %s\n", ++n_run, path);
    return 0;
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run_file(argv[i]);
        printf("1..%d\n", n_run);
        return 0;
    }
    const char *dir = getenv("FUZZ_CORPUS");
#ifdef FUZZ_CORPUS_DIR
    if (dir == NULL)
        dir = FUZZ_CORPUS_DIR;
#endif
    if (dir == NULL) {
        printf("1..1\nnot ok 1 - no corpus directory (set FUZZ_CORPUS)\n");
        return 1;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("1..1\nnot ok 1 - cannot open corpus %s\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(l);
        snprintf(names[n], l, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    /* Also run the empty input, which every decoder must survive. */
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    printf("ok %d - empty input\n", ++n_run);
    for (size_t i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
    printf("1..%d\n", n_run);
    return 0;
}
