/* cgifile.h: large answers handed to the web server as files (X-Sendfile),
 * so it sends them with sendfile() as it does static files, instead of
 * copying them from the FastCGI connection into a temporary file first. */
#ifndef MULETEER_CGIFILE_H
#define MULETEER_CGIFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/response.h"

struct evbuffer;

/* cgifile_enabled: true when the web server takes X-Sendfile answers from
 * the directory in MULETEER_XSENDFILE_DIR (lighttpd.conf sets both). */
bool cgifile_enabled(void);

/* cgifile_write: a new file holding body's bytes (left in body); its path,
 * which the caller frees after cgifile_release; NULL (logged) on error. */
char *cgifile_write(struct evbuffer *body);

/* A body file written piece by piece, so that an answer larger than
 * memory (a CSV export) is never held whole: cgifile_open, then
 * cgifile_append for each piece, then cgifile_finish (its path, as
 * cgifile_write gives) or cgifile_abandon. */
typedef struct cgifile cgifile_t;

/* cgifile_open: a new, empty body file; NULL (logged) when X-Sendfile is
 * off or the file cannot be made. */
cgifile_t *cgifile_open(void);
/* cgifile_append: body's bytes to the end of f; body is emptied. -1
 * (logged) when writing failed: f is then only good for
 * cgifile_abandon. */
int cgifile_append(cgifile_t *f, struct evbuffer *body);
/* cgifile_finish: closes f and frees it; the file's path, which the
 * caller frees after cgifile_release; NULL (logged, the file removed)
 * when closing failed. */
char *cgifile_finish(cgifile_t *f);
/* cgifile_abandon: removes f's file and frees f; accepts NULL. */
void cgifile_abandon(cgifile_t *f);

/* cgifile_answer: resp's body becomes the file at path (X-Sendfile); the
 * other headers and the status stay. */
void cgifile_answer(http_response_t *resp, const char *path);

/* A byte range of a file. */
typedef struct {
    size_t off, len;
} cgifile_range_t;

/* cgifile_answer_ranges: resp's body becomes the ranges r[0..n) of the
 * file at path, one after the other (X-Sendfile2; each len > 0). */
void cgifile_answer_ranges(http_response_t *resp, const char *path, const cgifile_range_t *r,
                           size_t n);

/* cgifile_release: path (a cgifile_write file) is no longer answered
 * with; it is removed once the web server has surely opened it for the
 * answers already given (now_ms: a monotonic clock). Takes path. */
void cgifile_release(char *path, int64_t now_ms);

/* cgifile_sweep: removes the released files old enough (now_ms as above);
 * also called by cgifile_release. */
void cgifile_sweep(int64_t now_ms);

#endif
