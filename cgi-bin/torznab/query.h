/* query.h: the pure rules of cgi-bin/torznab: a Torznab request's query
 * string read strictly into its parameters, the categories as classes of
 * eD2K files, the eD2K search expression built from the parameters, and
 * which results a class keeps. No FastCGI, PostgreSQL or XML here: the unit
 * test and the fuzz target link it alone (docs/torznab.md). */
#ifndef MT_CGI_TORZNAB_QUERY_H
#define MT_CGI_TORZNAB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Newznab error codes Sonarr, Radarr and Prowlarr interpret
 * (../shared/arr-contract.md §2.3): 100-199 is read as a bad API key. */
enum {
    TZ_ERR_KEY = 100,         /* Incorrect user credentials */
    TZ_ERR_MISSING = 200,     /* Missing parameter */
    TZ_ERR_BAD = 201,         /* Incorrect parameter */
    TZ_ERR_NO_FUNCTION = 202, /* No such function */
    TZ_ERR_NO_ITEM = 300,     /* No such item (an unknown indexer name) */
    TZ_ERR_UNAVAILABLE = 900, /* Unknown error: the daemon or network is away */
};

/* The functions (the t parameter). */
typedef enum { TZ_FN_SEARCH = 0, TZ_FN_CAPS, TZ_FN_TVSEARCH, TZ_FN_MOVIE } tz_fn_t;

/* Limits of the parameters (the issue's, eMuleBB's adapter contract). */
#define TZQ_MAX_CATS 32
#define TZQ_MAX_Q 256         /* bytes of q once decoded */
#define TZQ_MAX_NUMBER 9999   /* season, ep, year */
#define TZQ_MAX_OFFSET 1000000
#define TZQ_MAX_LIMIT 100
#define TZQ_MAX_PARAMS 64     /* parameters in one query string */

typedef struct {
    tz_fn_t fn;
    char *q;                  /* decoded, trimmed; NULL when absent or blank */
    char *apikey;             /* NULL when absent */
    int cats[TZQ_MAX_CATS];
    size_t n_cats;
    int season, ep, year;     /* -1 when absent */
    int month, day;           /* a daily show's ep=MM/DD (season is the year); 0 otherwise */
    unsigned offset;
    unsigned limit;           /* 1..100 (0 given means 100) */
} tzq_t;

/* A refusal: the Newznab code and a description for <error>. */
typedef struct {
    int code;
    char message[160];
} tz_error_t;

/* tzq_parse: reads a raw query string (len bytes, the part of the URL
 * after '?', not decoded) into q. Strict: '&' separates parameters (empty
 * ones are skipped), '+' is a space, '%' must be followed by two hex digits,
 * %00 and any NUL byte are refused, names and values must be strict UTF-8;
 * names compare lowercased, and one given twice is refused; unknown names
 * are ignored. Returns 0, or the Newznab code (also in err->code, with a
 * description) after which q holds nothing to free. The caller frees a
 * parsed q with tzq_clear. */
int tzq_parse(const char *raw, size_t len, tzq_t *q, tz_error_t *err);
void tzq_clear(tzq_t *q);

/* tz_fn_name: "search", "caps", "tvsearch", "movie". */
const char *tz_fn_name(tz_fn_t fn);

/* What kind of files a request wants, from its categories (and its
 * function when it gives none). */
typedef enum {
    TZ_CLASS_ANY = 0,
    TZ_CLASS_MOVIE,  /* 2000-2999 */
    TZ_CLASS_TV,     /* 5000-5999 */
    TZ_CLASS_VIDEO,  /* movies and TV together */
    TZ_CLASS_AUDIO,  /* 3000-3999 */
    TZ_CLASS_PC,     /* 4000-4999 */
    TZ_CLASS_BOOK,   /* 7000-7999 */
    TZ_CLASS_OTHER,  /* 8000-8999 */
} tz_class_t;

/* tz_class_of: the class of q's categories: every category of one class
 * gives that class, TV with movies TZ_CLASS_VIDEO, anything else mixed (or
 * a category of no standard family) TZ_CLASS_ANY. Without categories:
 * tvsearch is TV, movie is MOVIE, search ANY. */
tz_class_t tz_class_of(const tzq_t *q);
/* tz_class_is_video: MOVIE, TV or VIDEO. */
bool tz_class_is_video(tz_class_t c);
/* tz_class_filetype: the eD2K type: filter value of a class ("video",
 * "audio", "document", "program": servers know CD images as programs), or
 * NULL for ANY and OTHER. */
const char *tz_class_filetype(tz_class_t c);

/* tz_expression: the eD2K search expression (docs/search.md) for q, as
 * eD2K users name files: the words of q (the characters the expression
 * language reserves turned into spaces, AND/OR/NOT lowercased), then
 * SxxEyy for tvsearch with season and ep, Sxx with season only, "YYYY MM
 * DD" for a daily show, the year for movie (or tvsearch) with year, then
 * type:<class type> and min:<min_size> when min_size > 0. NULL when q has
 * no words (the empty-query feed). The caller frees it. */
char *tz_expression(const tzq_t *q, tz_class_t c, uint64_t min_size);

/* tz_result_wanted: whether a result named name of size bytes belongs to
 * class c: for video classes a video extension (avi, mkv, mp4, ...), no
 * word "sample", and at least min_size bytes; anything for other classes. */
bool tz_result_wanted(tz_class_t c, const char *name, uint64_t size, uint64_t min_size);

/* tz_name_is_episode: name holds SxxEyy, or a daily show's YYYY.MM.DD
 * (any one separator among ". _-"). */
bool tz_name_is_episode(const char *name);

/* tz_item_categories: the Torznab categories of a result, into cats (at
 * most 2: the family and a subcategory): for TV 5000 and 5045 (2160p),
 * 5040 (720p/1080p) or 5030; for movies 2000 and 2045/2040/2030; otherwise
 * from the eD2K file type (Video: TV when the name has SxxEyy, else
 * movies; Audio 3000, Pro 4000, Doc 7000, else 8000). Returns the count. */
size_t tz_item_categories(tz_class_t c, const char *name, const char *file_type, int cats[2]);

#endif
