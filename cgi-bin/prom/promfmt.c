/* promfmt.c: the Prometheus text format and OpenMetrics text written into
 * an evbuffer, with the escaping both require (promfmt.h). */
#include "config.h"

#include "prom/promfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

promfmt_mode_t
promfmt_mode_for_accept(const char *accept)
{
    return accept != NULL && strcasestr(accept, "application/openmetrics-text") != NULL
               ? PROMFMT_OPENMETRICS
               : PROMFMT_TEXT;
}

bool
promfmt_name_ok(const char *name, bool label)
{
    if (name == NULL || *name == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (c == ':' && !label) || (p != name && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static void
escape(struct evbuffer *out, const char *s, bool quote)
{
    const char *run = s;
    for (; *s != '\0'; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : quote && *s == '"' ? "\\\"" : NULL;
        if (rep == NULL)
            continue;
        evbuffer_add(out, run, (size_t)(s - run));
        evbuffer_add(out, rep, 2);
        run = s + 1;
    }
    evbuffer_add(out, run, (size_t)(s - run));
}

void
promfmt_escape_label(struct evbuffer *out, const char *value)
{
    escape(out, value, true);
}

void
promfmt_escape_help(struct evbuffer *out, const char *text)
{
    escape(out, text, false);
}

static const char *
type_name(promfmt_type_t t)
{
    return t == PROMFMT_COUNTER ? "counter" : t == PROMFMT_GAUGE ? "gauge" : "histogram";
}

void
promfmt_family(promfmt_t *f, const char *name, promfmt_type_t type, const char *help)
{
    if (!promfmt_name_ok(name, false)) {
        f->bad = true;
        return;
    }
    size_t len = strlen(name);
    /* OpenMetrics names a counter's family without its _total */
    if (f->mode == PROMFMT_OPENMETRICS && type == PROMFMT_COUNTER && len > 6 &&
        strcmp(name + len - 6, "_total") == 0)
        len -= 6;
    evbuffer_add_printf(f->out, "# HELP %.*s ", (int)len, name);
    promfmt_escape_help(f->out, help);
    evbuffer_add_printf(f->out, "\n# TYPE %.*s %s\n", (int)len, name, type_name(type));
}

/* shortest: v with the fewest digits (15 to 17) that read back as v. */
static const char *
shortest(double v, char *buf, size_t size)
{
    for (int prec = 15; prec < 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, size, "%.17g", v);
    return buf;
}

static void
value(struct evbuffer *out, double v)
{
    char buf[32];
    if (isnan(v))
        evbuffer_add_printf(out, "NaN");
    else if (isinf(v))
        evbuffer_add_printf(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) <= 9007199254740992.0)
        evbuffer_add_printf(out, "%.0f", v);
    else
        evbuffer_add_printf(out, "%s", shortest(v, buf, sizeof buf));
}

/* sample: name{labels,extra} v; extra (may be NULL) goes last. */
static void
sample(promfmt_t *f, const char *name, const char *suffix, const promfmt_label_t *labels,
       size_t n, const promfmt_label_t *extra, double v)
{
    for (size_t i = 0; i < n; i++)
        if (!promfmt_name_ok(labels[i].name, true)) {
            f->bad = true;
            return;
        }
    if (!promfmt_name_ok(name, false)) {
        f->bad = true;
        return;
    }
    evbuffer_add_printf(f->out, "%s%s", name, suffix);
    if (n > 0 || extra != NULL) {
        evbuffer_add(f->out, "{", 1);
        for (size_t i = 0; i <= n; i++) {
            const promfmt_label_t *l = i < n ? &labels[i] : extra;
            if (l == NULL)
                break;
            evbuffer_add_printf(f->out, "%s%s=\"", i > 0 ? "," : "", l->name);
            promfmt_escape_label(f->out, l->value != NULL ? l->value : "");
            evbuffer_add(f->out, "\"", 1);
        }
        evbuffer_add(f->out, "}", 1);
    }
    evbuffer_add(f->out, " ", 1);
    value(f->out, v);
    evbuffer_add(f->out, "\n", 1);
}

void
promfmt_sample(promfmt_t *f, const char *name, const promfmt_label_t *labels, size_t n,
               double v)
{
    sample(f, name, "", labels, n, NULL, v);
}

void
promfmt_histogram(promfmt_t *f, const char *name, const promfmt_label_t *labels, size_t n,
                  const double *bounds, size_t n_bounds, const unsigned long long *counts,
                  double sum)
{
    unsigned long long cum = 0;
    for (size_t i = 0; i <= n_bounds; i++) {
        char le[32];
        if (i < n_bounds)
            snprintf(le, sizeof le, "%g", bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        cum += counts[i];
        promfmt_label_t l = { "le", le };
        sample(f, name, "_bucket", labels, n, &l, (double)cum);
    }
    sample(f, name, "_sum", labels, n, NULL, sum);
    sample(f, name, "_count", labels, n, NULL, (double)cum);
}

void
promfmt_end(promfmt_t *f)
{
    if (f->mode == PROMFMT_OPENMETRICS)
        evbuffer_add_printf(f->out, "# EOF\n");
}
