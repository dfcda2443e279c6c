/* search.c: the search expression language (lexer, parser, filters), the
 * search tree encoder and decoder (§3.5), and search result decoding (§3.5,
 * §4). docs/search.md describes the language and the aMule facts used. */
#include "config.h"

#include "ed2k/search.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/c2s.h"
#include "ed2k/packet.h"
#include "ed2k/tag.h"
#include "ed2k/text.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* Search tree node types (§3.5). */
enum {
    NODE_BOOL = 0x00,
    NODE_STRING = 0x01,
    NODE_META = 0x02,
    NODE_NUM32 = 0x03,
    NODE_NUM64 = 0x08,
};

enum { BOOL_AND = 0x00, BOOL_OR = 0x01, BOOL_NOT = 0x02 };

/* Comparison bytes (aMule Constants.h ED2K_SEARCH_OP_*). */
enum { CMP_EQ = 0, CMP_GT = 1, CMP_LT = 2, CMP_GE = 3, CMP_LE = 4, CMP_NE = 5 };

/* Nesting of parentheses the parser accepts. */
#define MAX_PAREN_DEPTH 32
/* Text fields of results (type, format, media) are cut to this. */
#define MAX_FIELD_LEN 255
#define MAX_NAME_LEN 255
/* A result entry is at least hash, id, port and a tag count. */
#define MIN_ENTRY_LEN (16 + 4 + 2 + 4)

/* One node of a search tree, as parsed or as read from the wire. */
typedef struct node {
    uint8_t kind;
    uint8_t op;       /* BOOL: operator; NUM: comparison */
    uint8_t tag_id;   /* META/NUM: the 1-byte tag name, when tag_name is NULL */
    char *tag_name;   /* META/NUM: a string tag name (wire only) */
    size_t tag_name_len;
    char *text;       /* STRING/META: the value (NUL-terminated copy) */
    size_t len;
    uint64_t value;   /* NUM */
    struct node *l, *r;
} node_t;

struct ed2k_search {
    node_t *root;         /* the whole tree as sent, filters included */
    const char *filetype; /* static; NULL without type: */
};

/* ------------------------------------------------------------------ */
/* Nodes */

static node_t *
node_new(uint8_t kind)
{
    node_t *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    return n;
}

static void
node_free(node_t *n)
{
    if (n == NULL)
        return;
    node_free(n->l);
    node_free(n->r);
    free(n->tag_name);
    free(n->text);
    free(n);
}

static node_t *
node_bool(uint8_t op, node_t *l, node_t *r)
{
    node_t *n = node_new(NODE_BOOL);
    n->op = op;
    n->l = l;
    n->r = r;
    return n;
}

static node_t *
node_string(uint8_t kind, const char *s, size_t len)
{
    node_t *n = node_new(kind);
    n->text = xmalloc(len + 1);
    if (len > 0)
        memcpy(n->text, s, len);
    n->text[len] = '\0';
    n->len = len;
    return n;
}

static node_t *
node_meta(uint8_t tag_id, const char *value)
{
    node_t *n = node_string(NODE_META, value, strlen(value));
    n->tag_id = tag_id;
    return n;
}

static node_t *
node_num(uint8_t tag_id, uint8_t cmp, uint64_t value)
{
    node_t *n = node_new(NODE_NUM32);
    n->tag_id = tag_id;
    n->op = cmp;
    n->value = value;
    return n;
}

/* join_strings: dst becomes "dst src". */
static void
join_strings(node_t *dst, const node_t *src)
{
    size_t len = dst->len + 1 + src->len;
    char *t = xmalloc(len + 1);
    memcpy(t, dst->text, dst->len);
    t[dst->len] = ' ';
    memcpy(t + dst->len + 1, src->text, src->len);
    t[len] = '\0';
    free(dst->text);
    dst->text = t;
    dst->len = len;
}

static bool
is_and(const node_t *n)
{
    return n->kind == NODE_BOOL && n->op == BOOL_AND;
}

/* node_and: l AND r, folding string terms that end up side by side into one
 * ("a b"): the server requires every word of a string term (§3.5), which
 * aMule relies on when it folds AND-only searches (SearchList.cpp
 * ParsedSearchExpression). AND being associative, a string also joins the
 * string at the near end of an AND chain: (X AND a) AND (b AND Y) =
 * (X AND "a b") AND Y. */
static node_t *
node_and(node_t *l, node_t *r)
{
    node_t **last = &l, **first = &r, **holder = NULL;
    while (is_and(*last))
        last = &(*last)->r;
    while (is_and(*first)) {
        holder = first;
        first = &(*first)->l;
    }
    if ((*last)->kind != NODE_STRING || (*first)->kind != NODE_STRING)
        return node_bool(BOOL_AND, l, r);
    join_strings(*last, *first);
    if (holder == NULL) {
        node_free(r);
        return l;
    }
    /* The AND that held the joined string gives way to its right side. */
    node_t *gone = *holder;
    *holder = gone->r;
    gone->r = NULL;
    node_free(gone);
    return node_bool(BOOL_AND, l, r);
}

static size_t
count_operators(const node_t *n)
{
    if (n == NULL || n->kind != NODE_BOOL)
        return 0;
    return 1 + count_operators(n->l) + count_operators(n->r);
}

/* ------------------------------------------------------------------ */
/* UTF-8 */

/* Bidirectional embedding, override and isolate characters, used to make
 * "gpj.exe" display as "exe.jpg". */
static bool
is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* text_is_clean: valid UTF-8 without control characters. */
static bool
text_is_clean(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0 || mt_utf8_is_control(cp))
            return false;
        i += n;
    }
    return true;
}

/* cut_point: the largest cut <= max that does not split a character. */
static size_t
cut_point(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((uint8_t)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* charpos: the 1-based character position of byte offset off. */
static size_t
charpos(const char *s, size_t off)
{
    size_t n = 1;
    for (size_t i = 0; i < off; i++)
        if (((uint8_t)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ------------------------------------------------------------------ */
/* Lexer */

enum {
    T_END,
    T_WORD,
    T_PHRASE,       /* "..." with its quotes */
    T_FILTER,       /* name:value */
    T_AND,
    T_OR,
    T_NOT,
    T_LPAREN,
    T_RPAREN,
    T_BADQUOTE,     /* a quote never closed */
    T_EMPTYPHRASE,  /* "" or a phrase of blanks */
};

typedef struct token {
    int kind;
    size_t off, len;
} token_t;

static bool
is_blank(char c)
{
    return c == ' ';
}

static bool
is_wordchar(char c)
{
    return !is_blank(c) && c != '(' && c != ')' && c != '"';
}

static bool
is_ascii_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A filter is a word that starts with letters and a colon: "min:1G". Words
 * like "12:30" or "ed2k::<hash>" (a digit before the colon) are words. */
static bool
looks_like_filter(const char *w, size_t n)
{
    size_t k = 0;
    while (k < n && is_ascii_alpha(w[k]))
        k++;
    return k > 0 && k < n && w[k] == ':';
}

static void
lex_next(const char *p, size_t len, size_t *i, token_t *t)
{
    while (*i < len && is_blank(p[*i]))
        (*i)++;
    t->off = *i;
    t->len = 0;
    if (*i >= len) {
        t->kind = T_END;
        return;
    }
    char c = p[*i];
    if (c == '(' || c == ')') {
        t->kind = c == '(' ? T_LPAREN : T_RPAREN;
        t->len = 1;
        (*i)++;
        return;
    }
    if (c == '"') {
        const char *q = memchr(p + *i + 1, '"', len - *i - 1);
        if (q == NULL) {
            t->kind = T_BADQUOTE;
            t->len = len - *i;
            *i = len;
            return;
        }
        size_t end = (size_t)(q - p) + 1;
        bool blank = true;
        for (size_t k = *i + 1; k + 1 < end; k++)
            if (!is_blank(p[k]))
                blank = false;
        t->kind = blank ? T_EMPTYPHRASE : T_PHRASE;
        t->len = end - *i;
        *i = end;
        return;
    }
    size_t j = *i;
    while (j < len && is_wordchar(p[j]))
        j++;
    t->len = j - *i;
    *i = j;
    const char *w = p + t->off;
    if (t->len == 3 && memcmp(w, "AND", 3) == 0)
        t->kind = T_AND;
    else if (t->len == 2 && memcmp(w, "OR", 2) == 0)
        t->kind = T_OR;
    else if (t->len == 3 && memcmp(w, "NOT", 3) == 0)
        t->kind = T_NOT;
    else if (looks_like_filter(w, t->len))
        t->kind = T_FILTER;
    else
        t->kind = T_WORD;
}

/* string_is_verbatim: whether a string term, written out as it is, reads
 * back as the same term: words and phrases separated by single spaces. */
static bool
string_is_verbatim(const char *s, size_t len)
{
    if (len == 0 || !text_is_clean(s, len))
        return false;
    size_t i = 0, pos = 0;
    bool first = true;
    for (;;) {
        token_t t;
        lex_next(s, len, &i, &t);
        if (t.kind == T_END)
            break;
        if (t.kind != T_WORD && t.kind != T_PHRASE)
            return false;
        if (!first) {
            if (s[pos] != ' ')
                return false;
            pos++;
        }
        if (t.off != pos)
            return false;
        pos = t.off + t.len;
        first = false;
    }
    return !first && pos == len;
}

/* string_is_multiword: a verbatim string of more than one token. */
static bool
string_is_multiword(const char *s, size_t len)
{
    size_t i = 0;
    token_t t;
    lex_next(s, len, &i, &t);
    lex_next(s, len, &i, &t);
    return t.kind != T_END;
}

/* ------------------------------------------------------------------ */
/* Filters */

typedef struct filters {
    const token_t *type_tok, *ext_tok, *min_tok, *max_tok, *avail_tok;
    const char *type_wire; /* sent as FT_FILETYPE */
    const char *type_name; /* aMule's name for it */
    char *ext;
    uint64_t min, max;
    uint32_t avail;
} filters_t;

static const struct {
    const char *word;
    const char *wire;
    const char *name;
} filetypes[] = {
    /* Archives and CD images are searched as "Pro" (aMule SearchList.cpp
     * CreateSearchData, eMule SearchResultsWnd.cpp; §2.2). */
    { "video", "Video", "Video" },   { "audio", "Audio", "Audio" },
    { "image", "Image", "Image" },   { "program", "Pro", "Pro" },
    { "pro", "Pro", "Pro" },         { "document", "Doc", "Doc" },
    { "doc", "Doc", "Doc" },         { "archive", "Pro", "Arc" },
    { "arc", "Pro", "Arc" },         { "cd-image", "Pro", "Iso" },
    { "iso", "Pro", "Iso" },
};

/* parse_size: digits, an optional fraction, an optional unit K/M/G/T
 * (binary), optionally followed by B or iB; a bare B means bytes. */
static int
parse_size(const char *s, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t whole = 0;
    bool digits = false;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return -1;
        whole = whole * 10 + d;
        digits = true;
        i++;
    }
    uint64_t frac = 0, scale = 1;
    bool has_frac = false;
    if (i < n && s[i] == '.') {
        has_frac = true;
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            /* Six decimals are plenty; further digits are ignored. */
            if (scale < 1000000) {
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                scale *= 10;
            }
            digits = true;
            i++;
        }
    }
    if (!digits)
        return -1;
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        { "", 1 },
        { "b", 1 },
        { "k", 1ULL << 10 }, { "kb", 1ULL << 10 }, { "kib", 1ULL << 10 },
        { "m", 1ULL << 20 }, { "mb", 1ULL << 20 }, { "mib", 1ULL << 20 },
        { "g", 1ULL << 30 }, { "gb", 1ULL << 30 }, { "gib", 1ULL << 30 },
        { "t", 1ULL << 40 }, { "tb", 1ULL << 40 }, { "tib", 1ULL << 40 },
    };
    uint64_t mult = 0;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (strlen(units[u].suffix) == n - i && strncasecmp(s + i, units[u].suffix, n - i) == 0) {
            mult = units[u].mult;
            break;
        }
    }
    if (mult == 0 || (mult == 1 && has_frac))
        return -1;
    if (whole > UINT64_MAX / mult)
        return -1;
    uint64_t v = whole * mult;
    uint64_t f = frac * mult / scale; /* frac < 10^6, mult <= 2^40: no overflow */
    if (v > UINT64_MAX - f)
        return -1;
    *out = v + f;
    return 0;
}

static int
parse_count(const char *s, size_t n, uint32_t *out)
{
    if (n == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* tok_error: "<what> '<token>' at position <n><hint>". */
static int
tok_error(mt_error_t **err, const char *p, const token_t *t, const char *what, const char *hint)
{
    mt_error_set(err, MT_ERR_INVALID, "%s '%.*s' at position %zu%s", what, (int)t->len,
                 p + t->off, charpos(p, t->off), hint);
    return -1;
}

static int
apply_filter(filters_t *f, const char *p, const token_t *t, mt_error_t **err)
{
    const char *w = p + t->off;
    const char *colon = memchr(w, ':', t->len);
    size_t nlen = (size_t)(colon - w);
    const char *v = colon + 1;
    size_t vlen = t->len - nlen - 1;
    const token_t **slot;
    enum { F_TYPE, F_EXT, F_MIN, F_MAX, F_AVAIL } which;
#define NAME_IS(s) (nlen == strlen(s) && strncasecmp(w, s, nlen) == 0)
    if (NAME_IS("type")) {
        which = F_TYPE;
        slot = &f->type_tok;
    } else if (NAME_IS("ext")) {
        which = F_EXT;
        slot = &f->ext_tok;
    } else if (NAME_IS("min") || NAME_IS("minsize")) {
        which = F_MIN;
        slot = &f->min_tok;
    } else if (NAME_IS("max") || NAME_IS("maxsize")) {
        which = F_MAX;
        slot = &f->max_tok;
    } else if (NAME_IS("avail") || NAME_IS("sources")) {
        which = F_AVAIL;
        slot = &f->avail_tok;
    } else {
        mt_error_set(err, MT_ERR_INVALID,
                     "unknown filter '%.*s:' in '%.*s' at position %zu (filters are type:, ext:, "
                     "min:, max:, avail:; put a word with a colon in quotes)",
                     (int)nlen, w, (int)t->len, w, charpos(p, t->off));
        return -1;
    }
#undef NAME_IS
    if (*slot != NULL) {
        mt_error_set(err, MT_ERR_INVALID,
                     "filter '%.*s' at position %zu repeats '%.*s' at position %zu", (int)t->len,
                     w, charpos(p, t->off), (int)(*slot)->len, p + (*slot)->off,
                     charpos(p, (*slot)->off));
        return -1;
    }
    if (vlen == 0)
        return tok_error(err, p, t, "filter without a value", "");
    *slot = t;
    switch (which) {
    case F_TYPE:
        for (size_t k = 0; k < sizeof filetypes / sizeof filetypes[0]; k++) {
            if (strlen(filetypes[k].word) == vlen && strncasecmp(v, filetypes[k].word, vlen) == 0) {
                f->type_wire = filetypes[k].wire;
                f->type_name = filetypes[k].name;
                return 0;
            }
        }
        mt_error_set(err, MT_ERR_INVALID,
                     "bad file type '%.*s' at position %zu (use video, audio, image, program, "
                     "document, archive or cd-image)",
                     (int)t->len, w, charpos(p, t->off));
        return -1;
    case F_EXT:
        if (v[0] == '.') {
            v++;
            vlen--;
        }
        if (vlen == 0)
            return tok_error(err, p, t, "bad extension", "");
        f->ext = xstrndup(v, vlen);
        return 0;
    case F_MIN:
    case F_MAX: {
        uint64_t size;
        if (parse_size(v, vlen, &size) != 0)
            return tok_error(err, p, t, "bad size",
                             " (a number of bytes, or with K, M, G or T: 700M, 1.5G)");
        if (which == F_MIN) {
            f->min = size;
        } else {
            if (size == 0)
                return tok_error(err, p, t, "bad size", " (max:0 matches nothing)");
            f->max = size;
        }
        return 0;
    }
    case F_AVAIL:
        if (parse_count(v, vlen, &f->avail) != 0)
            return tok_error(err, p, t, "bad number of sources", " (a whole number)");
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Parser: recursive descent over the tokens, with aMule's precedence
 * (Parser.y: %left OR, %left AND, %left NOT) and adjacent terms joined by
 * an implicit AND that binds tightest (aMule's and_strings). */

typedef struct parser {
    const char *p;
    const token_t *t;
    size_t i;
    int depth;
    mt_error_t **err;
} parser_t;

static node_t *parse_or(parser_t *ps);

static const token_t *
peek(const parser_t *ps)
{
    return &ps->t[ps->i];
}

static bool
starts_operand(int kind)
{
    return kind == T_WORD || kind == T_PHRASE || kind == T_LPAREN;
}

static const char *
op_word(int kind)
{
    return kind == T_AND ? "AND" : kind == T_OR ? "OR" : "NOT";
}

static node_t *
parse_primary(parser_t *ps)
{
    const token_t *t = peek(ps);
    switch (t->kind) {
    case T_WORD:
    case T_PHRASE:
        /* A phrase keeps its quotes on the wire, as eMule sends it
         * (Scanner.l with bKeepQuotedStrings); see docs/search.md. */
        ps->i++;
        return node_string(NODE_STRING, ps->p + t->off, t->len);
    case T_LPAREN: {
        if (ps->depth >= MAX_PAREN_DEPTH) {
            mt_error_set(ps->err, MT_ERR_TOO_LARGE,
                         "'(' at position %zu: parentheses nested deeper than %d",
                         charpos(ps->p, t->off), MAX_PAREN_DEPTH);
            return NULL;
        }
        ps->i++;
        const token_t *n = peek(ps);
        if (n->kind == T_RPAREN) {
            mt_error_set(ps->err, MT_ERR_INVALID, "empty parentheses at position %zu",
                         charpos(ps->p, t->off));
            return NULL;
        }
        if (n->kind == T_END) {
            mt_error_set(ps->err, MT_ERR_INVALID,
                         "unbalanced parentheses: '(' at position %zu is never closed",
                         charpos(ps->p, t->off));
            return NULL;
        }
        ps->depth++;
        node_t *e = parse_or(ps);
        ps->depth--;
        if (e == NULL)
            return NULL;
        if (peek(ps)->kind != T_RPAREN) {
            node_free(e);
            mt_error_set(ps->err, MT_ERR_INVALID,
                         "unbalanced parentheses: '(' at position %zu is never closed",
                         charpos(ps->p, t->off));
            return NULL;
        }
        ps->i++;
        return e;
    }
    case T_AND:
    case T_OR:
    case T_NOT:
        mt_error_set(ps->err, MT_ERR_INVALID, "'%s' at position %zu has no left operand%s",
                     op_word(t->kind), charpos(ps->p, t->off),
                     t->kind == T_NOT ? " (NOT is binary: 'a NOT b' finds a without b)" : "");
        return NULL;
    case T_RPAREN:
        mt_error_set(ps->err, MT_ERR_INVALID,
                     "unbalanced parentheses: ')' at position %zu has no matching '('",
                     charpos(ps->p, t->off));
        return NULL;
    default:
        mt_error_set(ps->err, MT_ERR_INVALID, "search term expected at position %zu",
                     charpos(ps->p, t->off));
        return NULL;
    }
}

/* right_operand: after the operator at ps->i - 1, checks that an operand
 * follows. */
static bool
right_operand(parser_t *ps)
{
    if (starts_operand(peek(ps)->kind))
        return true;
    const token_t *op = &ps->t[ps->i - 1];
    mt_error_set(ps->err, MT_ERR_INVALID, "'%s' at position %zu has no right operand",
                 op_word(op->kind), charpos(ps->p, op->off));
    return false;
}

static node_t *
parse_juxt(parser_t *ps)
{
    node_t *l = parse_primary(ps);
    while (l != NULL && starts_operand(peek(ps)->kind)) {
        node_t *r = parse_primary(ps);
        if (r == NULL) {
            node_free(l);
            return NULL;
        }
        l = node_and(l, r);
    }
    return l;
}

/* parse_binary: a left-associative chain of op over operands of sub. */
static node_t *
parse_binary(parser_t *ps, int tok, node_t *(*sub)(parser_t *))
{
    node_t *l = sub(ps);
    while (l != NULL && peek(ps)->kind == tok) {
        ps->i++;
        node_t *r = right_operand(ps) ? sub(ps) : NULL;
        if (r == NULL) {
            node_free(l);
            return NULL;
        }
        if (tok == T_AND)
            l = node_and(l, r);
        else
            l = node_bool(tok == T_OR ? BOOL_OR : BOOL_NOT, l, r);
    }
    return l;
}

static node_t *
parse_not(parser_t *ps)
{
    return parse_binary(ps, T_NOT, parse_juxt);
}

static node_t *
parse_and(parser_t *ps)
{
    return parse_binary(ps, T_AND, parse_not);
}

static node_t *
parse_or(parser_t *ps)
{
    return parse_binary(ps, T_OR, parse_and);
}

/* check_text: length, UTF-8 and control characters of the expression. */
static int
check_text(const char *expr, size_t len, mt_error_t **err)
{
    if (len > ED2K_SEARCH_MAX_LEN) {
        mt_error_set(err, MT_ERR_TOO_LARGE,
                     "search expression is %zu bytes long; the limit is %d", len,
                     ED2K_SEARCH_MAX_LEN);
        return -1;
    }
    const uint8_t *p = (const uint8_t *)expr;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0) {
            mt_error_set(err, MT_ERR_INVALID,
                         "search expression is not valid UTF-8 (byte 0x%02x at position %zu)",
                         p[i], charpos(expr, i));
            return -1;
        }
        if (mt_utf8_is_control(cp)) {
            mt_error_set(err, MT_ERR_INVALID, "control character U+%04X at position %zu",
                         (unsigned)cp, charpos(expr, i));
            return -1;
        }
        i += n;
    }
    return 0;
}

/* build_root: ANDs the filters to the expression in aMule's shape
 * (SearchList.cpp CreateSearchData): for a lone string term, a right-nested
 * chain "AND s AND type AND min ... ext"; otherwise every AND first, then
 * the expression, then the filters: "AND AND expr type min". Filter order:
 * type, min size, max size, availability, extension. */
static node_t *
build_root(node_t *expr, const filters_t *f)
{
    node_t *terms[5];
    size_t n = 0;
    if (f->type_wire != NULL)
        terms[n++] = node_meta(ED2K_FT_FILETYPE, f->type_wire);
    if (f->min > 0)
        terms[n++] = node_num(ED2K_FT_FILESIZE, CMP_GT, f->min);
    if (f->max > 0)
        terms[n++] = node_num(ED2K_FT_FILESIZE, CMP_LT, f->max);
    if (f->avail > 0)
        terms[n++] = node_num(ED2K_FT_SOURCES, CMP_GT, f->avail);
    if (f->ext != NULL)
        terms[n++] = node_meta(ED2K_FT_FILEFORMAT, f->ext);
    if (n == 0)
        return expr;
    if (expr->kind == NODE_STRING) {
        node_t *chain = terms[n - 1];
        for (size_t k = n - 1; k-- > 0;)
            chain = node_bool(BOOL_AND, terms[k], chain);
        return node_bool(BOOL_AND, expr, chain);
    }
    node_t *root = expr;
    for (size_t k = 0; k < n; k++)
        root = node_bool(BOOL_AND, root, terms[k]);
    return root;
}

int
ed2k_search_parse(const char *expr, ed2k_search_t **out, mt_error_t **err)
{
    *out = NULL;
    size_t len = expr != NULL ? strlen(expr) : 0;
    if (check_text(expr, len, err) != 0)
        return -1;
    /* Tokens first, so filters anywhere are taken out of the expression. */
    token_t *toks = xcalloc(len + 1, sizeof *toks);
    size_t ntok = 0, i = 0;
    filters_t f;
    memset(&f, 0, sizeof f);
    token_t *filter_toks = xcalloc(len + 1, sizeof *filter_toks);
    size_t nfilter = 0;
    node_t *tree = NULL;
    int rc = -1;
    for (;;) {
        token_t t;
        lex_next(expr, len, &i, &t);
        if (t.kind == T_BADQUOTE) {
            mt_error_set(err, MT_ERR_INVALID,
                         "unterminated quote: '\"' at position %zu is never closed",
                         charpos(expr, t.off));
            goto out;
        }
        if (t.kind == T_EMPTYPHRASE) {
            tok_error(err, expr, &t, "empty quoted phrase", "");
            goto out;
        }
        if (t.kind == T_FILTER) {
            filter_toks[nfilter] = t;
            if (apply_filter(&f, expr, &filter_toks[nfilter], err) != 0)
                goto out;
            nfilter++;
            continue;
        }
        toks[ntok++] = t;
        if (t.kind == T_END)
            break;
    }
    if (ntok == 1) {
        if (nfilter == 0)
            mt_error_set(err, MT_ERR_INVALID, "empty search expression");
        else
            mt_error_set(err, MT_ERR_INVALID,
                         "the search expression has only filters: add words to search for");
        goto out;
    }
    if (f.min > 0 && f.max > 0 && f.min >= f.max) {
        /* Servers compare strictly (size > min, size < max, as aMule asks). */
        mt_error_set(err, MT_ERR_INVALID,
                     "'%.*s' at position %zu (%" PRIu64 " bytes) is not below '%.*s' at position "
                     "%zu (%" PRIu64 " bytes): nothing can match",
                     (int)f.min_tok->len, expr + f.min_tok->off, charpos(expr, f.min_tok->off),
                     f.min, (int)f.max_tok->len, expr + f.max_tok->off,
                     charpos(expr, f.max_tok->off), f.max);
        goto out;
    }
    parser_t ps = { .p = expr, .t = toks, .i = 0, .depth = 0, .err = err };
    tree = parse_or(&ps);
    if (tree == NULL)
        goto out;
    if (peek(&ps)->kind != T_END) {
        /* parse_or stops only at the end or at a ')' nobody opened. */
        mt_error_set(err, MT_ERR_INVALID,
                     "unbalanced parentheses: ')' at position %zu has no matching '('",
                     charpos(expr, peek(&ps)->off));
        goto out;
    }
    size_t ops = count_operators(tree);
    if (ops > ED2K_SEARCH_MAX_OPERATORS) {
        mt_error_set(err, MT_ERR_TOO_LARGE,
                     "search expression is too complex: %zu AND/OR/NOT operators after joining "
                     "adjacent words; the limit is %d",
                     ops, ED2K_SEARCH_MAX_OPERATORS);
        goto out;
    }
    ed2k_search_t *s = xcalloc(1, sizeof *s);
    s->root = build_root(tree, &f);
    s->filetype = f.type_name;
    tree = NULL;
    *out = s;
    rc = 0;
out:
    node_free(tree);
    free(f.ext);
    free(toks);
    free(filter_toks);
    return rc;
}

void
ed2k_search_free(ed2k_search_t *s)
{
    if (s == NULL)
        return;
    node_free(s->root);
    free(s);
}

const char *
ed2k_search_filetype(const ed2k_search_t *s)
{
    return s->filetype;
}

/* ------------------------------------------------------------------ */
/* Encoder */

static void
write_tag_name(struct evbuffer *b, const node_t *n)
{
    if (n->tag_name != NULL) {
        ed2k_write_u16(b, (uint16_t)n->tag_name_len);
        ed2k_write_bytes(b, n->tag_name, n->tag_name_len);
    } else {
        ed2k_write_u16(b, 1);
        ed2k_write_u8(b, n->tag_id);
    }
}

static int
write_node(struct evbuffer *b, const node_t *n, bool large, mt_error_t **err)
{
    switch (n->kind) {
    case NODE_BOOL:
        ed2k_write_u8(b, NODE_BOOL);
        ed2k_write_u8(b, n->op);
        if (write_node(b, n->l, large, err) != 0)
            return -1;
        return write_node(b, n->r, large, err);
    case NODE_STRING:
        ed2k_write_u8(b, NODE_STRING);
        return ed2k_write_string16(b, n->text, n->len, err);
    case NODE_META:
        ed2k_write_u8(b, NODE_META);
        if (ed2k_write_string16(b, n->text, n->len, err) != 0)
            return -1;
        write_tag_name(b, n);
        return 0;
    default: {
        /* Numeric: 64-bit only for values that need it and only to peers
         * with large files (aMule CSearchExprTarget). Otherwise aMule clamps
         * to 0xFFFFFFFF; we do that for upper bounds only, since a lower
         * bound of 4 GiB matches nothing on such a server. */
        uint64_t v = n->value;
        if (v > UINT32_MAX && large) {
            ed2k_write_u8(b, NODE_NUM64);
            ed2k_write_u64(b, v);
        } else {
            if (v > UINT32_MAX) {
                if (n->op != CMP_LT && n->op != CMP_LE) {
                    mt_error_set(err, MT_ERR_UNSUPPORTED,
                                 "a lower bound of %" PRIu64
                                 " bytes needs a server with large-file support",
                                 v);
                    return -1;
                }
                v = UINT32_MAX;
            }
            ed2k_write_u8(b, NODE_NUM32);
            ed2k_write_u32(b, (uint32_t)v);
        }
        ed2k_write_u8(b, n->op);
        write_tag_name(b, n);
        return 0;
    }
    }
}

int
ed2k_search_encode(const ed2k_search_t *s, struct evbuffer *out, bool large_files,
                   mt_error_t **err)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        abort();
    int rc = write_node(b, s->root, large_files, err);
    if (rc == 0 && evbuffer_add_buffer(out, b) != 0)
        abort();
    evbuffer_free(b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Readable form */

static void
put(struct evbuffer *b, const char *s)
{
    ed2k_write_bytes(b, s, strlen(s));
}

/* put_quoted: 'text' with \' \\ and \xHH for control bytes and bytes that
 * are not UTF-8, so any wire string prints as clean UTF-8 on one line. */
static void
put_quoted(struct evbuffer *b, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    put(b, "'");
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = mt_utf8_next(p + i, len - i, &cp);
        if (n == 0 || mt_utf8_is_control(cp)) {
            size_t k = n == 0 ? 1 : n;
            for (size_t j = 0; j < k; j++) {
                char hex[8];
                snprintf(hex, sizeof hex, "\\x%02x", p[i + j]);
                put(b, hex);
            }
            i += k;
            continue;
        }
        if (cp == '\'' || cp == '\\')
            put(b, "\\");
        ed2k_write_bytes(b, p + i, n);
        i += n;
    }
    put(b, "'");
}

/* A value that needs no quotes: one clean word without syntax characters. */
static bool
is_atom(const char *s, size_t len)
{
    if (len == 0 || !text_is_clean(s, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if (strchr(" \t\"'()\\=<>:", s[i]) != NULL)
            return false;
    return true;
}

static void
put_value(struct evbuffer *b, const char *s, size_t len)
{
    if (is_atom(s, len))
        ed2k_write_bytes(b, s, len);
    else
        put_quoted(b, s, len);
}

static void
put_tag_name(struct evbuffer *b, const node_t *n)
{
    static const struct {
        uint8_t id;
        const char *name;
    } names[] = {
        { 0x01, "name" },   { 0x02, "size" },     { 0x03, "type" },    { 0x04, "ext" },
        { 0x15, "sources" }, { 0x30, "complete" }, { 0xD0, "artist" }, { 0xD1, "album" },
        { 0xD2, "title" },  { 0xD3, "length" },   { 0xD4, "bitrate" }, { 0xD5, "codec" },
    };
    if (n->tag_name != NULL) {
        put_quoted(b, n->tag_name, n->tag_name_len);
        return;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].id == n->tag_id) {
            put(b, names[i].name);
            return;
        }
    }
    char hex[8];
    snprintf(hex, sizeof hex, "0x%02x", n->tag_id);
    put(b, hex);
}

enum { CTX_TOP, CTX_AND, CTX_OTHER };

/* render: AND is shown as juxtaposition, OR and NOT in words, each
 * operand that is itself an OR or NOT (or an AND inside one) in
 * parentheses. */
static void
render(struct evbuffer *b, const node_t *n, int ctx)
{
    switch (n->kind) {
    case NODE_BOOL: {
        bool is_and = n->op == BOOL_AND;
        bool paren = is_and ? ctx == CTX_OTHER : ctx != CTX_TOP;
        if (paren)
            put(b, "(");
        render(b, n->l, is_and ? CTX_AND : CTX_OTHER);
        put(b, n->op == BOOL_AND ? " " : n->op == BOOL_OR ? " OR " : " NOT ");
        render(b, n->r, is_and ? CTX_AND : CTX_OTHER);
        if (paren)
            put(b, ")");
        return;
    }
    case NODE_STRING:
        if (string_is_verbatim(n->text, n->len)) {
            bool paren = ctx == CTX_OTHER && string_is_multiword(n->text, n->len);
            if (paren)
                put(b, "(");
            ed2k_write_bytes(b, n->text, n->len);
            if (paren)
                put(b, ")");
        } else {
            put_quoted(b, n->text, n->len);
        }
        return;
    case NODE_META:
        put_tag_name(b, n);
        put(b, "=");
        put_value(b, n->text, n->len);
        return;
    default: {
        static const char *const cmps[] = { "=", ">", "<", ">=", "<=", "<>" };
        put_tag_name(b, n);
        put(b, n->op < 6 ? cmps[n->op] : "?");
        char num[32];
        snprintf(num, sizeof num, "%" PRIu64, n->value);
        put(b, num);
        return;
    }
    }
}

static char *
render_tree(const node_t *n)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        abort();
    render(b, n, CTX_TOP);
    size_t len = evbuffer_get_length(b);
    char *s = xmalloc(len + 1);
    evbuffer_remove(b, s, len);
    s[len] = '\0';
    evbuffer_free(b);
    return s;
}

char *
ed2k_search_to_string(const ed2k_search_t *s)
{
    return render_tree(s->root);
}

/* ------------------------------------------------------------------ */
/* Decoder */

static size_t
reader_pos(const ed2k_reader_t *r, size_t len)
{
    return len - ed2k_reader_remaining(r);
}

static int
tree_truncated(const ed2k_reader_t *r, size_t len, mt_error_t **err)
{
    mt_error_set(err, MT_ERR_PROTOCOL, "search tree: cut short at byte %zu", reader_pos(r, len));
    return -1;
}

static int
read_tag_name(ed2k_reader_t *r, size_t len, node_t *n, mt_error_t **err)
{
    const uint8_t *name;
    size_t nlen;
    if (ed2k_read_string16(r, &name, &nlen) != 0)
        return tree_truncated(r, len, err);
    if (nlen == 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: empty tag name before byte %zu",
                     reader_pos(r, len));
        return -1;
    }
    if (nlen == 1) {
        n->tag_id = name[0];
    } else {
        n->tag_name = xmemdup(name, nlen);
        n->tag_name_len = nlen;
    }
    return 0;
}

static node_t *
read_node(ed2k_reader_t *r, size_t len, int depth, mt_error_t **err)
{
    if (depth > ED2K_SEARCH_MAX_DEPTH) {
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: nested deeper than %d at byte %zu",
                     ED2K_SEARCH_MAX_DEPTH, reader_pos(r, len));
        return NULL;
    }
    size_t at = reader_pos(r, len);
    uint8_t kind;
    if (ed2k_read_u8(r, &kind) != 0) {
        tree_truncated(r, len, err);
        return NULL;
    }
    node_t *n = NULL;
    switch (kind) {
    case NODE_BOOL: {
        uint8_t op;
        if (ed2k_read_u8(r, &op) != 0) {
            tree_truncated(r, len, err);
            return NULL;
        }
        if (op > BOOL_NOT) {
            mt_error_set(err, MT_ERR_PROTOCOL, "search tree: unknown operator 0x%02x at byte %zu",
                         op, at + 1);
            return NULL;
        }
        node_t *a = read_node(r, len, depth + 1, err);
        node_t *c = a != NULL ? read_node(r, len, depth + 1, err) : NULL;
        if (c == NULL) {
            node_free(a);
            return NULL;
        }
        return node_bool(op, a, c);
    }
    case NODE_STRING:
    case NODE_META: {
        const uint8_t *s;
        size_t slen;
        if (ed2k_read_string16(r, &s, &slen) != 0) {
            tree_truncated(r, len, err);
            return NULL;
        }
        n = node_string(kind, (const char *)s, slen);
        if (kind == NODE_META && read_tag_name(r, len, n, err) != 0) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    case NODE_NUM32:
    case NODE_NUM64: {
        n = node_new(kind);
        int rc;
        if (kind == NODE_NUM32) {
            uint32_t v;
            rc = ed2k_read_u32(r, &v);
            n->value = v;
        } else {
            rc = ed2k_read_u64(r, &n->value);
        }
        if (rc != 0 || ed2k_read_u8(r, &n->op) != 0) {
            node_free(n);
            tree_truncated(r, len, err);
            return NULL;
        }
        if (n->op > CMP_NE) {
            mt_error_set(err, MT_ERR_PROTOCOL,
                         "search tree: unknown comparison 0x%02x before byte %zu", n->op,
                         reader_pos(r, len));
            node_free(n);
            return NULL;
        }
        if (read_tag_name(r, len, n, err) != 0) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    default:
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: unknown node type 0x%02x at byte %zu",
                     kind, at);
        return NULL;
    }
}

int
ed2k_search_tree_dump(const uint8_t *p, size_t len, char **text, mt_error_t **err)
{
    *text = NULL;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    node_t *root = read_node(&r, len, 1, err);
    if (root == NULL)
        return -1;
    if (ed2k_reader_remaining(&r) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "search tree: %zu bytes after the tree",
                     ed2k_reader_remaining(&r));
        node_free(root);
        return -1;
    }
    *text = render_tree(root);
    node_free(root);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Results */

/* clean_text: network text for display fields: UTF-8 (§0), without control
 * or bidi characters, trimmed, at most MAX_FIELD_LEN bytes; NULL if
 * nothing is left. */
static char *
clean_text(const void *raw, size_t len)
{
    size_t n;
    char *u = ed2k_text_to_utf8(raw, len, &n);
    char *out = xmalloc(n + 1);
    size_t o = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = mt_utf8_next((const uint8_t *)u + i, n - i, &cp);
        if (k == 0) {
            i++;
            continue;
        }
        if (!mt_utf8_is_control(cp) && !is_bidi_control(cp)) {
            memcpy(out + o, u + i, k);
            o += k;
        }
        i += k;
    }
    free(u);
    size_t start = 0;
    while (start < o && out[start] == ' ')
        start++;
    while (o > start && out[o - 1] == ' ')
        o--;
    size_t cut = cut_point(out + start, o - start, MAX_FIELD_LEN);
    if (cut == 0) {
        free(out);
        return NULL;
    }
    memmove(out, out + start, cut);
    out[cut] = '\0';
    return out;
}

static size_t
trim_name_end(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '.'))
        len--;
    return len;
}

char *
ed2k_search_sanitize_name(const void *raw, size_t len)
{
    size_t n;
    char *u = ed2k_text_to_utf8(raw, len, &n);
    char *s = xmalloc(n + 1);
    size_t o = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = mt_utf8_next((const uint8_t *)u + i, n - i, &cp);
        if (k == 0) {
            i++; /* cannot happen: ed2k_text_to_utf8 returns UTF-8 */
            continue;
        }
        if (cp == '/' || cp == '\\')
            s[o++] = '_';
        else if (!mt_utf8_is_control(cp) && !is_bidi_control(cp)) {
            memcpy(s + o, u + i, k);
            o += k;
        }
        i += k;
    }
    free(u);
    size_t start = 0;
    while (start < o && (s[start] == '.' || s[start] == ' '))
        start++;
    size_t end = trim_name_end(s + start, o - start);
    memmove(s, s + start, end);
    size_t nlen = end;
    if (nlen > MAX_NAME_LEN) {
        /* Keep a short extension so the cut name keeps its type. */
        const char *dot = NULL;
        for (size_t k = nlen; k-- > 1;) {
            if (s[k] == '.') {
                dot = s + k;
                break;
            }
            if (s[k] == ' ' || nlen - k > 16)
                break;
        }
        size_t ext = dot != NULL ? nlen - (size_t)(dot - s) : 0;
        size_t stem = trim_name_end(s, cut_point(s, nlen, MAX_NAME_LEN - ext));
        if (ext > 0 && stem > 0) {
            memmove(s + stem, dot, ext);
            nlen = stem + ext;
        } else {
            nlen = trim_name_end(s, cut_point(s, nlen, MAX_NAME_LEN));
        }
    }
    if (nlen == 0) {
        free(s);
        return xstrdup("unnamed");
    }
    s[nlen] = '\0';
    return s;
}

static const char *
filetype_name(uint64_t t)
{
    /* Integer FT_FILETYPE (§2.2), named as aMule names the types
     * (FileTags.h ED2KFTSTR_*). */
    static const char *const names[] = {
        NULL, "Audio", "Video", "Image", "Pro", "Doc", "Arc", "Iso",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

static uint32_t
clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* parse_length: a media length as text, "s", "m:s" or "h:m:s". */
static uint32_t
parse_length(const char *s, size_t len)
{
    uint64_t total = 0, part = 0;
    int fields = 1;
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            part = part * 10 + (uint64_t)(s[i] - '0');
            digit = true;
            if (part > UINT32_MAX)
                return 0;
        } else if (s[i] == ':' && digit && fields < 3) {
            total = (total + part) * 60;
            part = 0;
            digit = false;
            fields++;
        } else {
            return 0;
        }
    }
    if (!digit)
        return 0;
    return clamp32(total + part);
}

static char *
tag_clean_text(const ed2k_taglist_t *tags, uint8_t id)
{
    const char *s;
    size_t n;
    if (ed2k_taglist_get_str(tags, id, &s, &n) != 0)
        return NULL;
    return clean_text(s, n);
}

/* named_tag: the first tag with a string name equal to name, ignoring case
 * (eDonkeyHybrid's "Artist", "length", ...; §2.2). */
static const ed2k_tag_t *
named_tag(const ed2k_taglist_t *tags, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < ed2k_taglist_count(tags); i++) {
        const ed2k_tag_t *t = ed2k_taglist_get(tags, i);
        if (t->name != NULL && t->name_len == nlen && strncasecmp(t->name, name, nlen) == 0)
            return t;
    }
    return NULL;
}

static void
named_text(const ed2k_taglist_t *tags, const char *name, char **field)
{
    const ed2k_tag_t *t;
    if (*field == NULL && (t = named_tag(tags, name)) != NULL && ed2k_tag_is_str(t))
        *field = clean_text(t->v.data, t->v.len);
}

static void
result_clear(ed2k_search_result_t *r)
{
    free(r->name);
    free(r->type);
    free(r->format);
    free(r->artist);
    free(r->album);
    free(r->title);
    free(r->codec);
    memset(r, 0, sizeof *r);
}

/* fill_result: the fields of a result from its tags (aMule SearchFile.cpp).
 * Returns whether the result is worth keeping: it has a name and a size. */
static bool
fill_result(ed2k_search_result_t *res, const ed2k_taglist_t *tags)
{
    const char *s;
    size_t n;
    uint64_t v;
    bool named = ed2k_taglist_get_str(tags, ED2K_FT_FILENAME, &s, &n) == 0 && n > 0;
    res->name = named ? ed2k_search_sanitize_name(s, n) : xstrdup("");
    if (ed2k_taglist_get_uint(tags, ED2K_FT_FILESIZE, &v) == 0) {
        res->size = v;
        uint64_t hi;
        if (ed2k_taglist_get_uint(tags, ED2K_FT_FILESIZE_HI, &hi) == 0)
            res->size = (hi & UINT32_MAX) << 32 | (v & UINT32_MAX);
    }
    if (ed2k_taglist_get_uint(tags, ED2K_FT_SOURCES, &v) == 0)
        res->sources = clamp32(v);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_COMPLETE_SOURCES, &v) == 0)
        res->complete_sources = clamp32(v);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_FILETYPE, &v) == 0) {
        const char *t = filetype_name(v);
        res->type = t != NULL ? xstrdup(t) : NULL;
    } else {
        res->type = tag_clean_text(tags, ED2K_FT_FILETYPE);
    }
    res->format = tag_clean_text(tags, ED2K_FT_FILEFORMAT);
    res->artist = tag_clean_text(tags, ED2K_FT_MEDIA_ARTIST);
    res->album = tag_clean_text(tags, ED2K_FT_MEDIA_ALBUM);
    res->title = tag_clean_text(tags, ED2K_FT_MEDIA_TITLE);
    res->codec = tag_clean_text(tags, ED2K_FT_MEDIA_CODEC);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_MEDIA_LENGTH, &v) == 0)
        res->length = clamp32(v);
    if (ed2k_taglist_get_uint(tags, ED2K_FT_MEDIA_BITRATE, &v) == 0)
        res->bitrate = clamp32(v);
    named_text(tags, "Artist", &res->artist);
    named_text(tags, "Album", &res->album);
    named_text(tags, "Title", &res->title);
    named_text(tags, "codec", &res->codec);
    const ed2k_tag_t *t;
    if (res->length == 0 && (t = named_tag(tags, "length")) != NULL) {
        if (ed2k_tag_is_str(t))
            res->length = parse_length((const char *)t->v.data, t->v.len);
        else if (ed2k_tag_is_int(t))
            res->length = clamp32(t->v.u);
    }
    if (res->bitrate == 0 && (t = named_tag(tags, "bitrate")) != NULL && ed2k_tag_is_int(t))
        res->bitrate = clamp32(t->v.u);
    return named && res->size > 0;
}

/* read_entry: one <hash><id><port><tags> entry. On error res is clear. */
static int
read_entry(ed2k_reader_t *r, ed2k_search_result_t *res, bool *keep, mt_error_t **err)
{
    memset(res, 0, sizeof *res);
    if (ed2k_read_hash16(r, res->hash) != 0 || ed2k_read_u32(r, &res->client_id) != 0 ||
        ed2k_read_u16(r, &res->port) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "entry is cut short");
        return -1;
    }
    /* aMule keeps a source only with both an id and a port. */
    if (res->client_id == 0 || res->port == 0) {
        res->client_id = 0;
        res->port = 0;
    }
    ed2k_taglist_t *tags;
    if (ed2k_taglist_read(r, ED2K_TAGCOUNT_U32, 0, &tags, err) != 0)
        return -1;
    *keep = fill_result(res, tags);
    ed2k_taglist_free(tags);
    return 0;
}

void
ed2k_search_results_free(ed2k_search_result_t *r, size_t n)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        result_clear(&r[i]);
    free(r);
}

int
ed2k_searchresult_decode(const uint8_t *p, size_t len, ed2k_search_result_t **results,
                         size_t *n, bool *more, mt_error_t **err)
{
    *results = NULL;
    *n = 0;
    if (more != NULL)
        *more = false;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    uint32_t count;
    if (ed2k_read_u32(&r, &count) != 0) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SEARCHRESULT: payload is %zu bytes, too short",
                     len);
        return -1;
    }
    if (count > ed2k_reader_remaining(&r) / MIN_ENTRY_LEN) {
        mt_error_set(err, MT_ERR_PROTOCOL, "OP_SEARCHRESULT: %" PRIu32
                     " results cannot fit in %zu bytes", count, len);
        return -1;
    }
    ed2k_search_result_t *arr = xcalloc(count > 0 ? count : 1, sizeof *arr);
    size_t kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        bool keep = false;
        if (read_entry(&r, &arr[kept], &keep, err) != 0) {
            result_clear(&arr[kept]);
            ed2k_search_results_free(arr, kept);
            mt_error_prefix(err, "OP_SEARCHRESULT: result %" PRIu32 " of %" PRIu32, i + 1, count);
            return -1;
        }
        if (keep)
            kept++;
        else
            result_clear(&arr[kept]);
    }
    /* One trailing byte: 1 = more results (§3.5); aMule and eMule ignore
     * anything else after the entries. */
    uint8_t flag;
    if (ed2k_reader_remaining(&r) == 1 && ed2k_read_u8(&r, &flag) == 0 && more != NULL)
        *more = flag == 1;
    if (kept == 0) {
        free(arr);
        arr = NULL;
    }
    *results = arr;
    *n = kept;
    return 0;
}

int
ed2k_globsearchres_decode(const uint8_t *p, size_t len, ed2k_search_result_t **results,
                          size_t *n, mt_error_t **err)
{
    *results = NULL;
    *n = 0;
    ed2k_reader_t r;
    ed2k_reader_init(&r, p, len);
    ed2k_search_result_t *arr = NULL;
    size_t kept = 0, cap = 0, index = 0;
    for (;;) {
        index++;
        if (kept == cap) {
            cap = cap ? cap * 2 : 4;
            arr = xreallocarray(arr, cap, sizeof *arr);
        }
        bool keep = false;
        if (read_entry(&r, &arr[kept], &keep, err) != 0) {
            result_clear(&arr[kept]);
            ed2k_search_results_free(arr, kept);
            mt_error_prefix(err, "OP_GLOBSEARCHRES: result %zu", index);
            return -1;
        }
        if (keep)
            kept++;
        else
            result_clear(&arr[kept]);
        /* Another entry follows as "e3 99 <entry>" (aMule
         * ServerUDPSocket.cpp reads on while more than 2 bytes remain and
         * stops at anything else). */
        const uint8_t *next;
        if (ed2k_reader_remaining(&r) <= 2 || ed2k_read_ptr(&r, 2, &next) != 0 ||
            next[0] != ED2K_PROTO_EDONKEY || next[1] != ED2K_SOP_GLOBSEARCHRES)
            break;
    }
    if (kept == 0) {
        free(arr);
        arr = NULL;
    }
    *results = arr;
    *n = kept;
    return 0;
}

static void
add_text(ed2k_taglist_t *tags, uint8_t id, const char *s)
{
    if (s == NULL)
        return;
    size_t len = strlen(s);
    ed2k_taglist_add_str(tags, id, s, len > 65535 ? 65535 : len);
}

void
ed2k_searchresult_entry_encode(struct evbuffer *out, const ed2k_search_result_t *r,
                               bool compact_tags)
{
    ed2k_write_hash16(out, r->hash);
    ed2k_write_u32(out, r->client_id);
    ed2k_write_u16(out, r->port);
    ed2k_taglist_t *tags = ed2k_taglist_new();
    add_text(tags, ED2K_FT_FILENAME, r->name);
    ed2k_taglist_add_uint(tags, ED2K_FT_FILESIZE, ED2K_TAG_UINT32, r->size & UINT32_MAX);
    if (r->size > UINT32_MAX)
        ed2k_taglist_add_uint(tags, ED2K_FT_FILESIZE_HI, ED2K_TAG_UINT32, r->size >> 32);
    ed2k_taglist_add_uint(tags, ED2K_FT_SOURCES, ED2K_TAG_UINT32, r->sources);
    ed2k_taglist_add_uint(tags, ED2K_FT_COMPLETE_SOURCES, ED2K_TAG_UINT32, r->complete_sources);
    add_text(tags, ED2K_FT_FILETYPE, r->type);
    add_text(tags, ED2K_FT_FILEFORMAT, r->format);
    add_text(tags, ED2K_FT_MEDIA_ARTIST, r->artist);
    add_text(tags, ED2K_FT_MEDIA_ALBUM, r->album);
    add_text(tags, ED2K_FT_MEDIA_TITLE, r->title);
    add_text(tags, ED2K_FT_MEDIA_CODEC, r->codec);
    if (r->length > 0)
        ed2k_taglist_add_uint(tags, ED2K_FT_MEDIA_LENGTH, ED2K_TAG_UINT32, r->length);
    if (r->bitrate > 0)
        ed2k_taglist_add_uint(tags, ED2K_FT_MEDIA_BITRATE, ED2K_TAG_UINT32, r->bitrate);
    /* Cannot fail: fewer than 2^32 tags, strings cut to 65535 bytes. */
    ed2k_taglist_write(out, tags, ED2K_TAGCOUNT_U32,
                       compact_tags ? ED2K_TAGFORM_COMPACT : ED2K_TAGFORM_CLASSIC, NULL);
    ed2k_taglist_free(tags);
}
