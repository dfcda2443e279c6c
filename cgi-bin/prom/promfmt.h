/* promfmt.h: the Prometheus text exposition format (version 0.0.4) and
 * OpenMetrics 1.0 text, written into an evbuffer: metric families, samples
 * with labels, label values and help texts escaped. Pure: no FastCGI, no
 * database; tests/unit/check_promfmt. */
#ifndef MT_CGI_PROMFMT_H
#define MT_CGI_PROMFMT_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { PROMFMT_TEXT = 0, PROMFMT_OPENMETRICS } promfmt_mode_t;

typedef enum { PROMFMT_COUNTER, PROMFMT_GAUGE, PROMFMT_HISTOGRAM } promfmt_type_t;

/* Content types of the two modes. */
#define PROMFMT_TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROMFMT_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef struct {
    const char *name, *value;
} promfmt_label_t;

typedef struct promfmt {
    struct evbuffer *out;
    promfmt_mode_t mode;
    bool bad; /* an invalid name was refused (the sample left out) */
} promfmt_t;

/* promfmt_mode_for_accept: OpenMetrics when the Accept header (may be
 * NULL) asks for application/openmetrics-text, else the text format. */
promfmt_mode_t promfmt_mode_for_accept(const char *accept);

/* promfmt_name_ok: [a-zA-Z_:][a-zA-Z0-9_:]* (label names: no ':'). */
bool promfmt_name_ok(const char *name, bool label);

/* promfmt_escape_label: value as a label value between quotes: \ as \\,
 * " as \", newline as \n. promfmt_escape_help: a help text: \ as \\ and
 * newline as \n. Both append to out. */
void promfmt_escape_label(struct evbuffer *out, const char *value);
void promfmt_escape_help(struct evbuffer *out, const char *text);

/* promfmt_family: # HELP and # TYPE of a family. name is the sample name
 * without a suffix: a counter's name ends in _total (in OpenMetrics the
 * family is written without it). */
void promfmt_family(promfmt_t *f, const char *name, promfmt_type_t type, const char *help);
/* promfmt_sample: name{labels} value. NaN and infinities as NaN, +Inf,
 * -Inf; integral values up to 2^53 without an exponent. */
void promfmt_sample(promfmt_t *f, const char *name, const promfmt_label_t *labels, size_t n,
                    double value);
/* promfmt_histogram: the samples of one histogram series: name_bucket
 * for each bound (cumulative counts from the not cumulative ones in
 * counts[n_bounds + 1], the last for +Inf), name_sum and name_count;
 * labels are the series' own (le is added). */
void promfmt_histogram(promfmt_t *f, const char *name, const promfmt_label_t *labels, size_t n,
                       const double *bounds, size_t n_bounds, const unsigned long long *counts,
                       double sum);
/* promfmt_end: "# EOF" in OpenMetrics; nothing in the text format. */
void promfmt_end(promfmt_t *f);

#endif
