/*
 * json.c - a strict, allocation-light JSON reader and writer (json.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_MAX_DEPTH 64

void json_init(json_cur_t *c, const char *s, size_t len)
{
    c->p = s;
    c->end = s + len;
}

static void skip_ws(json_cur_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

int json_peek(json_cur_t *c)
{
    skip_ws(c);
    return c->p < c->end ? (unsigned char)*c->p : 0;
}

int json_expect(json_cur_t *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 0;
    }
    return -1;
}

int json_at_end(json_cur_t *c)
{
    skip_ws(c);
    return c->p == c->end;
}

int json_begin(json_cur_t *c, char open)
{
    if (json_expect(c, open) < 0)
        return -1;
    if (json_peek(c) == (open == '[' ? ']' : '}')) {
        c->p++;
        return 0;
    }
    return 1;
}

int json_next(json_cur_t *c, char close)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return 1;
    }
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    return -1;
}

int json_uint(json_cur_t *c, uint64_t *out)
{
    uint64_t v = 0;
    const char *start;

    skip_ws(c);
    start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        c->p++;
    }
    if (c->p == start || (*start == '0' && c->p - start > 1))
        return -1;
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
        return -1;
    *out = v;
    return 0;
}

/* Validates a number of any form (for json_skip). */
static int skip_number(json_cur_t *c)
{
    const char *start;

    if (c->p < c->end && *c->p == '-')
        c->p++;
    start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    if (c->p == start || (*start == '0' && c->p - start > 1))
        return -1;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        start = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == start)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        start = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == start)
            return -1;
    }
    return 0;
}

int json_string_raw(json_cur_t *c, const char **s, size_t *len)
{
    const char *q;

    skip_ws(c);
    if (c->p >= c->end || *c->p != '"')
        return -1;
    for (q = c->p + 1; q < c->end; q++) {
        if (*q == '"') {
            *s = c->p + 1;
            *len = (size_t)(q - c->p - 1);
            c->p = q + 1;
            return 0;
        }
        if (*q == '\\' || (unsigned char)*q < 0x20)
            return -1;
    }
    return -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the string at c into o (when not NULL); returns the length. */
static long scan_string(json_cur_t *c, char *o)
{
    const char *q = c->p;
    size_t n = 0;

    if (q >= c->end || *q != '"')
        return -1;
    for (q++; q < c->end; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch == '"') {
            c->p = q + 1;
            return (long)n;
        }
        if (ch < 0x20)
            return -1;
        if (ch != '\\') {
            if (o)
                o[n] = (char)ch;
            n++;
            continue;
        }
        if (++q >= c->end)
            return -1;
        switch (*q) {
        case '"': case '\\': case '/':
            if (o) o[n] = *q;
            n++;
            break;
        case 'b': if (o) o[n] = '\b'; n++; break;
        case 'f': if (o) o[n] = '\f'; n++; break;
        case 'n': if (o) o[n] = '\n'; n++; break;
        case 'r': if (o) o[n] = '\r'; n++; break;
        case 't': if (o) o[n] = '\t'; n++; break;
        case 'u': {
            unsigned cp, lo;
            char tmp[4];
            if (c->end - q < 5 || hex4(q + 1, &cp) < 0)
                return -1;
            q += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                if (c->end - q < 7 || q[1] != '\\' || q[2] != 'u' || hex4(q + 3, &lo) < 0 ||
                    lo < 0xdc00 || lo >= 0xe000)
                    return -1;
                q += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return -1;
            }
            if (cp == 0)
                return -1;
            n += put_utf8(o ? o + n : tmp, cp);
            break;
        }
        default:
            return -1;
        }
    }
    return -1;
}

int json_string(json_cur_t *c, char **out, size_t *len)
{
    json_cur_t probe;
    long n;
    char *s;

    skip_ws(c);
    probe = *c;
    n = scan_string(&probe, NULL);
    if (n < 0)
        return -1;
    s = malloc((size_t)n + 1);
    if (s == NULL)
        return -1;
    scan_string(c, s);
    s[n] = '\0';
    *out = s;
    if (len)
        *len = (size_t)n;
    return 0;
}

static int skip_value(json_cur_t *c, int depth)
{
    int ch, more;

    if (depth > JSON_MAX_DEPTH)
        return -1;
    ch = json_peek(c);
    switch (ch) {
    case '"':
        return scan_string(c, NULL) < 0 ? -1 : 0;
    case '{':
    case '[':
        for (more = json_begin(c, (char)ch); more == 1; more = json_next(c, ch == '{' ? '}' : ']')) {
            if (ch == '{') {
                skip_ws(c);
                if (scan_string(c, NULL) < 0 || json_expect(c, ':') < 0)
                    return -1;
            }
            if (skip_value(c, depth + 1) < 0)
                return -1;
        }
        return more;
    case 't':
        if (c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0) { c->p += 4; return 0; }
        return -1;
    case 'f':
        if (c->end - c->p >= 5 && memcmp(c->p, "false", 5) == 0) { c->p += 5; return 0; }
        return -1;
    case 'n':
        if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) { c->p += 4; return 0; }
        return -1;
    default:
        return skip_number(c);
    }
}

int json_skip(json_cur_t *c)
{
    return skip_value(c, 0);
}

void json_buf_init(json_buf_t *b)
{
    memset(b, 0, sizeof(*b));
}

void json_buf_free(json_buf_t *b)
{
    free(b->buf);
    json_buf_init(b);
}

static int reserve(json_buf_t *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->buf, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->buf = p;
    b->cap = cap;
    return 0;
}

void json_put(json_buf_t *b, const char *s, size_t len)
{
    if (reserve(b, len) < 0)
        return;
    memcpy(b->buf + b->len, s, len);
    b->len += len;
    b->buf[b->len] = '\0';
}

void json_puts(json_buf_t *b, const char *s)
{
    json_put(b, s, strlen(s));
}

void json_printf(json_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void json_put_str(json_buf_t *b, const char *s, size_t len)
{
    size_t i, run = 0;

    json_put(b, "\"", 1);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        json_put(b, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"': json_put(b, "\\\"", 2); break;
        case '\\': json_put(b, "\\\\", 2); break;
        case '\n': json_put(b, "\\n", 2); break;
        case '\r': json_put(b, "\\r", 2); break;
        case '\t': json_put(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            json_put(b, esc, 6);
        }
    }
    json_put(b, s + run, len - run);
    json_put(b, "\"", 1);
}

char *json_buf_take(json_buf_t *b, size_t *len)
{
    char *s;

    if (b->oom) {
        json_buf_free(b);
        return NULL;
    }
    if (b->buf == NULL)
        json_put(b, "", 0);
    if (b->oom) {
        json_buf_free(b);
        return NULL;
    }
    s = b->buf;
    if (len)
        *len = b->len;
    json_buf_init(b);
    return s;
}
