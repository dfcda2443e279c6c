/* speedlimit.c: which of the two limit pairs is in force, and the saved
 * alternative mode (speedlimit.h). The file holds "1\n" or "0\n". */
#include "config.h"

#include "daemon/net/speedlimit.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
speedlimit_in_force(const speedlimit_t *l, uint64_t *up, uint64_t *down)
{
    *up = l->alt ? l->alt_up : l->up;
    *down = l->alt ? l->alt_down : l->down;
}

int
speedlimit_load_mode(const char *path, bool *alt, mt_error_t **err)
{
    *alt = false;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        mt_error_set(err, MT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char buf[8] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (strcmp(buf, "1\n") == 0 || strcmp(buf, "0\n") == 0) {
        *alt = buf[0] == '1';
        return 0;
    }
    mt_error_set(err, MT_ERR_INVALID, "%s holds neither 0 nor 1", path);
    return -1;
}

int
speedlimit_save_mode(const char *path, bool alt, mt_error_t **err)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    int rc = -1;
    if (fd >= 0) {
        const char *text = alt ? "1\n" : "0\n";
        if (write(fd, text, 2) == 2 && fsync(fd) == 0)
            rc = 0;
        int saved = errno;
        close(fd);
        errno = saved;
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        mt_error_set(err, errno == ENOSPC || errno == EDQUOT ? MT_ERR_NO_SPACE : MT_ERR_IO,
                     "cannot save %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
