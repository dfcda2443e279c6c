/* sched.h: the limit schedule's rules ("HH:MM-HH:MM DAYS", several joined
 * by ';') and pure arithmetic on local wall-clock minutes: is a rule
 * active, how many minutes until that may change. No clock is read here. */
#ifndef MT_UTIL_SCHED_H
#define MT_UTIL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

#define SCHED_MAX_RULES 16
#define SCHED_DAY_MINUTES 1440
#define SCHED_WEEKDAYS 0x3e /* Monday to Friday; bit d is struct tm's tm_wday d */
#define SCHED_WEEKENDS 0x41 /* Saturday and Sunday */
#define SCHED_EVERY 0x7f

/* One rule: from `from` to `to` (minutes of the day) on the days of the
 * mask, a day being the one the range starts on. to < from runs over
 * midnight (22:00-06:00); to == from lasts 24 hours. */
typedef struct {
    uint16_t from, to;
    uint8_t days;
} sched_rule_t;

typedef struct {
    sched_rule_t rule[SCHED_MAX_RULES];
    size_t n;
} sched_t;

/* sched_parse: text as "HH:MM-HH:MM DAYS[; ...]", DAYS a comma list of
 * every, weekdays, weekends, mon ... sun (or full names); "" is no rule.
 * -1 with MT_ERR_INVALID naming what is wrong. */
int sched_parse(const char *text, sched_t *out, mt_error_t **err);

/* sched_format_rule: r as sched_parse reads it; the caller frees. */
char *sched_format_rule(const sched_rule_t *r);

/* sched_is_active: some rule covers minute (0-1439) of weekday wday
 * (0 = Sunday). */
bool sched_is_active(const sched_t *s, int wday, int minute);

/* sched_minutes_to_change: the minutes (>= 1) from (wday, minute) to the
 * first minute whose sched_is_active differs, counted on the wall clock
 * (a DST shift is the caller's to convert); -1 when it never changes. */
int sched_minutes_to_change(const sched_t *s, int wday, int minute);

/* sched_eval: at wall time now, in the process's local time zone (TZ):
 * whether the schedule is active, and the wall time of the next change
 * (the boundary's local minute turned back into a time by mktime, so a
 * DST shift in between is accounted for); *next is 0 when it never
 * changes. now is a parameter so that tests can hold the clock. */
void sched_eval(const sched_t *s, time_t now, bool *active, time_t *next);

/* qBittorrent's scheduler_days: 0 every day, 1 weekdays, 2 weekends,
 * 3 Monday ... 9 Sunday. sched_days_from_qbit: every day for a number
 * outside 1-9; sched_days_to_qbit: 0 (every day) for a mask it cannot name. */
uint8_t sched_days_from_qbit(int64_t n);
int sched_days_to_qbit(uint8_t days);

#endif
