/* sched.c: the limit schedule's rules parsed, formatted and evaluated
 * (sched.h). Whole minutes of a local day and a weekday in, no clock. */
#include "config.h"

#include "util/sched.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const day_names[7][2] = {
    { "sun", "sunday" },   { "mon", "monday" }, { "tue", "tuesday" },  { "wed", "wednesday" },
    { "thu", "thursday" }, { "fri", "friday" }, { "sat", "saturday" },
};

/* parse_hhmm: "H:MM" or "HH:MM" at *p, 00:00 to 23:59; advances *p. */
static int
parse_hhmm(const char **p, uint16_t *out)
{
    const char *s = *p;
    int h = 0, m = 0, nd = 0;
    while (isdigit((unsigned char)*s) && nd < 2)
        h = h * 10 + (*s++ - '0'), nd++;
    if (nd == 0 || *s++ != ':' || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]))
        return -1;
    m = (s[0] - '0') * 10 + (s[1] - '0');
    if (h > 23 || m > 59)
        return -1;
    *out = (uint16_t)(h * 60 + m);
    *p = s + 2;
    return 0;
}

/* day_token: the mask of one DAYS word of n characters, 0 if none. */
static uint8_t
day_token(const char *w, size_t n)
{
    static const struct {
        const char *name;
        uint8_t mask;
    } sets[] = { { "every", SCHED_EVERY }, { "weekdays", SCHED_WEEKDAYS },
                 { "weekends", SCHED_WEEKENDS } };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (strlen(sets[i].name) == n && strncasecmp(w, sets[i].name, n) == 0)
            return sets[i].mask;
    for (int d = 0; d < 7; d++)
        for (int k = 0; k < 2; k++)
            if (strlen(day_names[d][k]) == n && strncasecmp(w, day_names[d][k], n) == 0)
                return (uint8_t)(1u << d);
    return 0;
}

/* parse_days: the comma list of s[0..n). */
static int
parse_days(const char *s, size_t n, uint8_t *out)
{
    *out = 0;
    for (size_t i = 0; i < n;) {
        size_t w = i;
        while (w < n && s[w] != ',')
            w++;
        size_t a = i, b = w;
        while (a < b && isspace((unsigned char)s[a]))
            a++;
        while (b > a && isspace((unsigned char)s[b - 1]))
            b--;
        uint8_t m = day_token(s + a, b - a);
        if (m == 0)
            return -1;
        *out |= m;
        i = w + 1;
    }
    return *out != 0 ? 0 : -1;
}

/* parse_rule: one rule in s[0..n). */
static int
parse_rule(const char *s, size_t n, sched_rule_t *r)
{
    char *text = xstrndup(s, n);
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    int rc = -1;
    if (parse_hhmm(&p, &r->from) == 0 && *p++ == '-' && parse_hhmm(&p, &r->to) == 0 &&
        isspace((unsigned char)*p))
        rc = parse_days(p, strlen(p), &r->days);
    free(text);
    return rc;
}

int
sched_parse(const char *text, sched_t *out, mt_error_t **err)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, ";");
        size_t blank = strspn(p, " \t");
        if (blank < n) {
            if (out->n == SCHED_MAX_RULES) {
                mt_error_set(err, MT_ERR_INVALID, "more than %d schedule rules",
                             SCHED_MAX_RULES);
                return -1;
            }
            if (parse_rule(p, n, &out->rule[out->n]) != 0) {
                mt_error_set(err, MT_ERR_INVALID,
                             "\"%.*s\" is not a rule \"HH:MM-HH:MM DAYS\" (DAYS: every, "
                             "weekdays, weekends, mon ... sun, comma-separated)",
                             (int)n, p);
                return -1;
            }
            out->n++;
        }
        p += n + (p[n] == ';');
    }
    return 0;
}

char *
sched_format_rule(const sched_rule_t *r)
{
    char days[64] = "";
    if (r->days == SCHED_EVERY)
        strcpy(days, "every");
    else if (r->days == SCHED_WEEKDAYS)
        strcpy(days, "weekdays");
    else if (r->days == SCHED_WEEKENDS)
        strcpy(days, "weekends");
    else
        for (int k = 1; k <= 7; k++) /* Monday first */
            if (r->days & (1u << (k % 7))) {
                if (days[0] != '\0')
                    strcat(days, ",");
                strcat(days, day_names[k % 7][0]);
            }
    return xasprintf("%02d:%02d-%02d:%02d %s", r->from / 60, r->from % 60, r->to / 60,
                     r->to % 60, days);
}

static bool
rule_active(const sched_rule_t *r, int wday, int minute)
{
    bool today = (r->days >> wday) & 1;
    bool yesterday = (r->days >> ((wday + 6) % 7)) & 1;
    if (r->from < r->to)
        return today && minute >= r->from && minute < r->to;
    /* over midnight (to == from: 24 hours): started today or yesterday */
    return (today && minute >= r->from) || (yesterday && minute < r->to);
}

bool
sched_is_active(const sched_t *s, int wday, int minute)
{
    for (size_t i = 0; i < s->n; i++)
        if (rule_active(&s->rule[i], wday, minute))
            return true;
    return false;
}

int
sched_minutes_to_change(const sched_t *s, int wday, int minute)
{
    bool now = sched_is_active(s, wday, minute);
    int t = wday * SCHED_DAY_MINUTES + minute;
    for (int k = 1; k <= 7 * SCHED_DAY_MINUTES; k++) {
        int u = (t + k) % (7 * SCHED_DAY_MINUTES);
        if (sched_is_active(s, u / SCHED_DAY_MINUTES, u % SCHED_DAY_MINUTES) != now)
            return k;
    }
    return -1;
}

void
sched_eval(const sched_t *s, time_t now, bool *active, time_t *next)
{
    struct tm tm;
    localtime_r(&now, &tm);
    int minute = tm.tm_hour * 60 + tm.tm_min;
    *active = sched_is_active(s, tm.tm_wday, minute);
    int k = sched_minutes_to_change(s, tm.tm_wday, minute);
    *next = 0;
    if (k < 0)
        return;
    /* the wall-clock minute k minutes on, normalised by mktime: across a
     * DST change 02:30 may not exist or come twice; mktime picks one */
    tm.tm_min += k;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    *next = t > now ? t : now + 1;
}

uint8_t
sched_days_from_qbit(int64_t n)
{
    if (n == 1)
        return SCHED_WEEKDAYS;
    if (n == 2)
        return SCHED_WEEKENDS;
    if (n >= 3 && n <= 9)
        return (uint8_t)(1u << ((n - 2) % 7)); /* 3 Monday (1) ... 9 Sunday (0) */
    return SCHED_EVERY;
}

int
sched_days_to_qbit(uint8_t days)
{
    if (days == SCHED_WEEKDAYS)
        return 1;
    if (days == SCHED_WEEKENDS)
        return 2;
    for (int n = 3; n <= 9; n++)
        if (days == (1u << ((n - 2) % 7)))
            return n;
    return 0;
}
