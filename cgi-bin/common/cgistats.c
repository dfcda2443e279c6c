/* cgistats.c: the per-program request counters in slot files under
 * metrics_dir (cgistats.h): claiming a slot with flock, updating it in a
 * shared mapping, and summing every slot by program for /metrics. */
#include "config.h"

#include "common/cgistats.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct cgistats {
    int fd; /* holds the slot's lock */
    cgistats_file_t *f;
};

static const double bounds[CGISTATS_N_BOUNDS] = CGISTATS_BOUNDS;

/* mkdirs: dir and its missing parents. */
static int
mkdirs(const char *dir)
{
    char *p = xstrdup(dir);
    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0750) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0750) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* claim: slot i of program, locked and mapped; -1 when another process
 * holds it, -2 on an error. */
static int
claim(const char *dir, const char *program, int i, cgistats_t *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%d", dir, program, i);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? -1 : -2;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 ||
        (st.st_size != (off_t)sizeof(cgistats_file_t) && ftruncate(fd, 0) != 0) ||
        ftruncate(fd, sizeof(cgistats_file_t)) != 0) {
        close(fd);
        return -2;
    }
    void *m = mmap(NULL, sizeof(cgistats_file_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        close(fd);
        return -2;
    }
    s->fd = fd;
    s->f = m;
    if (s->f->magic != CGISTATS_MAGIC || s->f->size != sizeof(cgistats_file_t)) {
        memset(s->f, 0, sizeof *s->f);
        s->f->size = sizeof(cgistats_file_t);
        __atomic_store_n(&s->f->magic, CGISTATS_MAGIC, __ATOMIC_RELEASE);
    }
    return 0;
}

cgistats_t *
cgistats_open(const char *dir, const char *program)
{
    if (dir == NULL || *dir == '\0' || mkdirs(dir) != 0) {
        log_warn("request metrics off: cannot create %s: %s", dir != NULL ? dir : "(none)",
                 strerror(errno));
        return NULL;
    }
    cgistats_t *s = xcalloc(1, sizeof *s);
    for (int i = 0; i < CGISTATS_MAX_SLOTS; i++) {
        int rc = claim(dir, program, i, s);
        if (rc == 0)
            return s;
        if (rc == -2) {
            log_warn("request metrics off: %s/%s.%d: %s", dir, program, i, strerror(errno));
            break;
        }
    }
    free(s);
    return NULL;
}

static void
add(uint64_t *c, uint64_t v)
{
    __atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

void
cgistats_record(cgistats_t *s, int status, uint64_t usec)
{
    if (s == NULL)
        return;
    int cls = status >= 100 && status < 600 ? status / 100 : 0;
    add(&s->f->by_class[cls], 1);
    add(&s->f->usec_sum, usec);
    double sec = (double)usec / 1e6;
    size_t b = 0;
    while (b < CGISTATS_N_BOUNDS && sec > bounds[b])
        b++;
    add(&s->f->buckets[b], 1);
}

void
cgistats_observe(void *ctx, int status, uint64_t usec)
{
    cgistats_record(ctx, status, usec);
}

void
cgistats_free(cgistats_t *s)
{
    if (s == NULL)
        return;
    munmap(s->f, sizeof *s->f);
    close(s->fd); /* releases the lock */
    free(s);
}

/* ---------------------------------------------------------- reading */

/* family_of: NAME of a slot file name NAME.N, or false. */
static bool
family_of(const char *file, char name[64])
{
    const char *dot = strrchr(file, '.');
    size_t n = dot != NULL ? (size_t)(dot - file) : 0;
    if (n == 0 || n >= 64 || dot[1] == '\0' || strspn(dot + 1, "0123456789") != strlen(dot + 1))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((file[i] >= 'a' && file[i] <= 'z') || (file[i] >= '0' && file[i] <= '9') ||
              file[i] == '_' || file[i] == '-'))
            return false;
    memcpy(name, file, n);
    name[n] = '\0';
    return true;
}

static void
sum_into(cgistats_file_t *sum, const cgistats_file_t *f)
{
    for (size_t i = 0; i < 6; i++)
        sum->by_class[i] += __atomic_load_n(&f->by_class[i], __ATOMIC_RELAXED);
    sum->usec_sum += __atomic_load_n(&f->usec_sum, __ATOMIC_RELAXED);
    for (size_t i = 0; i <= CGISTATS_N_BOUNDS; i++)
        sum->buckets[i] += __atomic_load_n(&f->buckets[i], __ATOMIC_RELAXED);
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const cgistats_family_t *)a)->name, ((const cgistats_family_t *)b)->name);
}

/* read_one: the slot file at dirfd/name into fam's sums when well formed. */
static void
read_one(int dirfd, const char *name, cgistats_family_t **out, size_t *n, size_t *cap,
         const char *family)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    cgistats_file_t f;
    ssize_t got = pread(fd, &f, sizeof f, 0);
    close(fd);
    if (got != (ssize_t)sizeof f || f.magic != CGISTATS_MAGIC || f.size != sizeof f)
        return;
    size_t i = 0;
    while (i < *n && strcmp((*out)[i].name, family) != 0)
        i++;
    if (i == *n) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *out = xrealloc(*out, *cap * sizeof **out);
        }
        memset(&(*out)[i], 0, sizeof **out);
        snprintf((*out)[i].name, sizeof (*out)[i].name, "%s", family);
        (*n)++;
    }
    sum_into(&(*out)[i].sum, &f);
}

int
cgistats_read_dir(const char *dir, cgistats_family_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char family[64];
        if (family_of(e->d_name, family))
            read_one(dirfd(d), e->d_name, out, n, &cap, family);
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_name);
    return 0;
}
