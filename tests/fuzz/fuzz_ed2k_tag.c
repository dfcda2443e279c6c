/* fuzz_ed2k_tag.c: libFuzzer target for the tag-list reader, in both count
 * modes; what it reads must write (both forms) and read back equal. */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_ed2k_tag: %s\n", what);
    abort();
}

static void
rewrite(const ed2k_taglist_t *l, ed2k_tagcount_t count, ed2k_tagform_t form)
{
    struct evbuffer *b = evbuffer_new();
    mt_error_t *err = NULL;
    if (ed2k_taglist_write(b, l, count, form, &err) != 0)
        fail(err->message);
    size_t n = evbuffer_get_length(b);
    const uint8_t *bytes = evbuffer_pullup(b, -1);
    ed2k_reader_t r;
    ed2k_reader_init(&r, bytes, n);
    ed2k_taglist_t *back = NULL;
    if (ed2k_taglist_read(&r, count, 0, &back, &err) != 0)
        fail(err->message);
    if (ed2k_reader_remaining(&r) != 0)
        fail("re-read left bytes over");
    if (!ed2k_taglist_equal(l, back))
        fail("re-read list differs");
    ed2k_taglist_free(back);
    evbuffer_free(b);
}

static void
one_mode(const uint8_t *data, size_t size, ed2k_tagcount_t count)
{
    ed2k_reader_t r;
    ed2k_reader_init(&r, data, size);
    ed2k_taglist_t *l = NULL;
    mt_error_t *err = NULL;
    if (ed2k_taglist_read(&r, count, 0, &l, &err) != 0) {
        if (l != NULL || err == NULL)
            fail("failure without an error");
        mt_error_free(err);
        return;
    }
    if (ed2k_reader_remaining(&r) > size)
        fail("reader past the end");
    /* Touch every tag the way a caller would. */
    for (size_t i = 0; i < ed2k_taglist_count(l); i++) {
        const ed2k_tag_t *t = ed2k_taglist_get(l, i);
        if (t->name != NULL && ed2k_taglist_find_name(l, t->name) == NULL
            && strlen(t->name) == t->name_len)
            fail("find_name misses a tag");
        if (t->name == NULL && ed2k_taglist_find_id(l, t->id) == NULL)
            fail("find_id misses a tag");
        if (ed2k_tag_is_str(t) && t->v.data[t->v.len] != '\0')
            fail("string not NUL-terminated");
    }
    rewrite(l, count, ED2K_TAGFORM_CLASSIC);
    rewrite(l, count, ED2K_TAGFORM_COMPACT);
    ed2k_taglist_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_mode(data, size, ED2K_TAGCOUNT_U32);
    one_mode(data, size, ED2K_TAGCOUNT_U8);
    return 0;
}
