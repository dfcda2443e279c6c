/* search_expr.c: the search expression language (search_expr.h): the
 * lexer, the filters, the parser that folds adjacent strings, and the
 * readable form of a tree. docs/search.md describes the language and the
 * aMule facts used. */
#include "config.h"

#include "ed2k/search_expr.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed2k/c2s.h"
#include "ed2k/packet.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* Inside this file, a node of the tree. */
typedef ed2k_search_node_t node_t;

/* Nesting of parentheses the parser accepts. */
#define MAX_PAREN_DEPTH 32

struct ed2k_search {
    node_t *root;         /* the whole tree as sent, filters included */
    const char *filetype; /* static; NULL without type: */
};

/* ------------------------------------------------------------------ */
/* Nodes */

ed2k_search_node_t *
ed2k_search_node_new(uint8_t kind)
{
    node_t *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    return n;
}

void
ed2k_search_node_free(ed2k_search_node_t *n)
{
    if (n == NULL)
        return;
    ed2k_search_node_free(n->l);
    ed2k_search_node_free(n->r);
    free(n->tag_name);
    free(n->text);
    free(n);
}

ed2k_search_node_t *
ed2k_search_node_bool(uint8_t op, ed2k_search_node_t *l, ed2k_search_node_t *r)
{
    node_t *n = ed2k_search_node_new(ED2K_SEARCH_BOOL);
    n->op = op;
    n->l = l;
    n->r = r;
    return n;
}

ed2k_search_node_t *
ed2k_search_node_string(uint8_t kind, const char *s, size_t len)
{
    node_t *n = ed2k_search_node_new(kind);
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
    node_t *n = ed2k_search_node_string(ED2K_SEARCH_META, value, strlen(value));
    n->tag_id = tag_id;
    return n;
}

static node_t *
node_num(uint8_t tag_id, uint8_t cmp, uint64_t value)
{
    node_t *n = ed2k_search_node_new(ED2K_SEARCH_NUM32);
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
    return n->kind == ED2K_SEARCH_BOOL && n->op == ED2K_SEARCH_AND;
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
    if ((*last)->kind != ED2K_SEARCH_STRING || (*first)->kind != ED2K_SEARCH_STRING)
        return ed2k_search_node_bool(ED2K_SEARCH_AND, l, r);
    join_strings(*last, *first);
    if (holder == NULL) {
        ed2k_search_node_free(r);
        return l;
    }
    /* The AND that held the joined string gives way to its right side. */
    node_t *gone = *holder;
    *holder = gone->r;
    gone->r = NULL;
    ed2k_search_node_free(gone);
    return ed2k_search_node_bool(ED2K_SEARCH_AND, l, r);
}

static size_t
count_operators(const node_t *n)
{
    if (n == NULL || n->kind != ED2K_SEARCH_BOOL)
        return 0;
    return 1 + count_operators(n->l) + count_operators(n->r);
}

/* ------------------------------------------------------------------ */
/* UTF-8 */

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
        return ed2k_search_node_string(ED2K_SEARCH_STRING, ps->p + t->off, t->len);
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
            ed2k_search_node_free(e);
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
            ed2k_search_node_free(l);
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
            ed2k_search_node_free(l);
            return NULL;
        }
        if (tok == T_AND)
            l = node_and(l, r);
        else
            l = ed2k_search_node_bool(tok == T_OR ? ED2K_SEARCH_OR : ED2K_SEARCH_NOT, l, r);
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
        terms[n++] = node_num(ED2K_FT_FILESIZE, ED2K_SEARCH_CMP_GT, f->min);
    if (f->max > 0)
        terms[n++] = node_num(ED2K_FT_FILESIZE, ED2K_SEARCH_CMP_LT, f->max);
    if (f->avail > 0)
        terms[n++] = node_num(ED2K_FT_SOURCES, ED2K_SEARCH_CMP_GT, f->avail);
    if (f->ext != NULL)
        terms[n++] = node_meta(ED2K_FT_FILEFORMAT, f->ext);
    if (n == 0)
        return expr;
    if (expr->kind == ED2K_SEARCH_STRING) {
        node_t *chain = terms[n - 1];
        for (size_t k = n - 1; k-- > 0;)
            chain = ed2k_search_node_bool(ED2K_SEARCH_AND, terms[k], chain);
        return ed2k_search_node_bool(ED2K_SEARCH_AND, expr, chain);
    }
    node_t *root = expr;
    for (size_t k = 0; k < n; k++)
        root = ed2k_search_node_bool(ED2K_SEARCH_AND, root, terms[k]);
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
    ed2k_search_node_free(tree);
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
    ed2k_search_node_free(s->root);
    free(s);
}

const char *
ed2k_search_filetype(const ed2k_search_t *s)
{
    return s->filetype;
}

const ed2k_search_node_t *
ed2k_search_root(const ed2k_search_t *s)
{
    return s->root;
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
    case ED2K_SEARCH_BOOL: {
        bool is_and = n->op == ED2K_SEARCH_AND;
        bool paren = is_and ? ctx == CTX_OTHER : ctx != CTX_TOP;
        if (paren)
            put(b, "(");
        render(b, n->l, is_and ? CTX_AND : CTX_OTHER);
        put(b, n->op == ED2K_SEARCH_AND ? " " : n->op == ED2K_SEARCH_OR ? " OR " : " NOT ");
        render(b, n->r, is_and ? CTX_AND : CTX_OTHER);
        if (paren)
            put(b, ")");
        return;
    }
    case ED2K_SEARCH_STRING:
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
    case ED2K_SEARCH_META:
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

char *
ed2k_search_node_to_string(const ed2k_search_node_t *n)
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
    return ed2k_search_node_to_string(s->root);
}
