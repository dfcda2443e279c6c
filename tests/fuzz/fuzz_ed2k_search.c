/* fuzz_ed2k_search.c: fuzz target for lib/ed2k/search_expr.c and
 * search.c. The first byte picks: 0 expression parse + encode + dump round
 * trip, 1 search tree dump, 2 OP_SEARCHRESULT, 3 OP_GLOBSEARCHRES, 4 name
 * sanitising. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/search.h"
#include "ed2k/search_expr.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* clean: valid UTF-8 without C0 controls or DEL (what logs may print). */
static bool
clean(const char *s)
{
    size_t len = strlen(s);
    if (!mt_utf8_is_valid(s, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static void
check_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 255 || !clean(s) || strchr(s, '/') != NULL || strchr(s, '\\') != NULL ||
        s[0] == '.' || s[0] == ' ' || s[len - 1] == '.' || s[len - 1] == ' ')
        abort();
}

static void
check_results(const ed2k_search_result_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        check_name(r[i].name);
        if (r[i].size == 0)
            abort();
        const char *fields[] = { r[i].type, r[i].format, r[i].artist, r[i].album, r[i].title,
                                 r[i].codec };
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            if (fields[k] != NULL && (!clean(fields[k]) || strlen(fields[k]) > 255))
                abort();
    }
}

static char *
dump_buffer(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *text = NULL;
    if (ed2k_search_tree_dump(evbuffer_pullup(b, -1), n, &text, NULL) != 0)
        abort(); /* what we encode must decode */
    return text;
}

static void
expression(const uint8_t *p, size_t len)
{
    char *expr = malloc(len + 1);
    memcpy(expr, p, len);
    expr[len] = '\0';
    ed2k_search_t *s = NULL;
    if (ed2k_search_parse(expr, &s, NULL) != 0) {
        if (s != NULL)
            abort();
        free(expr);
        return;
    }
    char *str = ed2k_search_to_string(s);
    if (!clean(str))
        abort();
    /* large files: the dump reads back exactly the readable form */
    struct evbuffer *b = evbuffer_new();
    if (ed2k_search_encode(s, b, true, NULL) != 0)
        abort();
    char *text = dump_buffer(b);
    if (strcmp(text, str) != 0)
        abort();
    free(text);
    evbuffer_free(b);
    /* without: may refuse a minimum over 4 GiB, else must decode */
    b = evbuffer_new();
    if (ed2k_search_encode(s, b, false, NULL) == 0)
        free(dump_buffer(b));
    else if (evbuffer_get_length(b) != 0)
        abort();
    evbuffer_free(b);
    /* without filters, the readable form parses back to the same search
     * (its parentheses may take it over the length limit) */
    if (memchr(expr, ':', len) == NULL && strlen(expr) == len &&
        strlen(str) <= ED2K_SEARCH_MAX_LEN) {
        ed2k_search_t *again = NULL;
        if (ed2k_search_parse(str, &again, NULL) != 0)
            abort();
        char *str2 = ed2k_search_to_string(again);
        if (strcmp(str, str2) != 0)
            abort();
        free(str2);
        ed2k_search_free(again);
    }
    (void)ed2k_search_filetype(s);
    free(str);
    ed2k_search_free(s);
    free(expr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0:
        expression(p, len);
        break;
    case 1: {
        char *text = NULL;
        if (ed2k_search_tree_dump(p, len, &text, NULL) == 0) {
            if (!clean(text))
                abort();
            free(text);
        } else if (text != NULL) {
            abort();
        }
        break;
    }
    case 2: {
        ed2k_search_result_t *r = NULL;
        size_t n = 0;
        bool more;
        if (ed2k_searchresult_decode(p, len, &r, &n, &more, NULL) == 0) {
            check_results(r, n);
            ed2k_search_results_free(r, n);
        } else if (r != NULL || n != 0) {
            abort();
        }
        break;
    }
    case 3: {
        ed2k_search_result_t *r = NULL;
        size_t n = 0;
        if (ed2k_globsearchres_decode(p, len, &r, &n, NULL) == 0) {
            check_results(r, n);
            ed2k_search_results_free(r, n);
        } else if (r != NULL || n != 0) {
            abort();
        }
        break;
    }
    case 4: {
        char *name = ed2k_search_sanitize_name(p, len);
        check_name(name);
        free(name);
        break;
    }
    }
    return 0;
}
