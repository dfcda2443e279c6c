/* fuzz_torznab_query.c: libFuzzer target for cgi-bin/torznab's query
 * parser (query.c): any bytes as a query string. What it accepts must
 * satisfy the parser's promises (ranges, UTF-8), build an expression
 * without crashing, and give a feed item, from the query as a hostile
 * name, that libxml2 parses back. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "torznab/feed.h"
#include "torznab/query.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_torznab_query: %s\n", what);
    abort();
}

static void
well_formed(const tz_doc_t *d)
{
    xmlDocPtr x = xmlReadMemory(d->xml, (int)d->len, "f.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                                       XML_PARSE_NOWARNING);
    if (x == NULL)
        fail("an answer is not well-formed XML");
    xmlFreeDoc(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tzq_t q;
    tz_error_t err;
    int rc = tzq_parse((const char *)data, size, &q, &err);
    if (rc != 0) {
        if (rc != err.code || (rc != TZ_ERR_BAD && rc != TZ_ERR_MISSING && rc != TZ_ERR_NO_FUNCTION))
            fail("an unexpected error code");
        tz_doc_t d = { 0 };
        if (tz_error_doc(err.code, err.message, &d) != 0)
            fail("no error document");
        well_formed(&d);
        tz_doc_clear(&d);
        return 0;
    }
    if (q.limit < 1 || q.limit > TZQ_MAX_LIMIT || q.offset > TZQ_MAX_OFFSET ||
        q.season > TZQ_MAX_NUMBER || q.ep > TZQ_MAX_NUMBER || q.year > TZQ_MAX_NUMBER ||
        q.n_cats > TZQ_MAX_CATS || (q.ep >= 0 && q.season < 0))
        fail("a value out of its range");
    if (q.q != NULL && (!mt_utf8_is_valid(q.q, strlen(q.q)) || strlen(q.q) > TZQ_MAX_Q))
        fail("q is not valid UTF-8 or too long");
    char *e = tz_expression(&q, tz_class_of(&q), 1024);
    free(e);
    tz_feed_t *f = tz_feed_new("fuzz", "fuzz");
    char *name = malloc(size + 1);
    memcpy(name, data, size);
    name[size] = '\0';
    tz_item_t it = { .md4 = "0123456789abcdef0123456789abcdef", .name = name, .size = size,
                     .sources = 1 };
    it.n_cats = tz_item_categories(tz_class_of(&q), name, NULL, it.cats);
    if (f == NULL || tz_feed_add(f, &it) != 0)
        fail("feed item refused");
    tz_doc_t d = { 0 };
    if (tz_feed_finish(f, &d) != 0)
        fail("feed not finished");
    well_formed(&d);
    tz_doc_clear(&d);
    free(name);
    tzq_clear(&q);
    return 0;
}
