/*
 * reply.c - the RESP2 reply reader (reply.h).
 */
#include <string.h>

#include "reply.h"

#define REPLY_MAX_DEPTH 8
#define REPLY_MAX_BULK (512LL * 1024 * 1024)

/* The decimal at p..eol (optionally negative), or -1 with *ok = 0. */
static long long parse_len(const char *p, const char *eol, int *ok)
{
    int neg = 0;
    long long v = 0;
    *ok = 0;
    if (p < eol && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == eol)
        return -1;
    for (; p < eol; p++) {
        if (*p < '0' || *p > '9' || v > REPLY_MAX_BULK)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *ok = 1;
    return neg ? -v : v;
}

static ssize_t parse_at(const char *p, size_t len, reply_t *out, int depth)
{
    const char *cr = len > 0 ? memchr(p, '\r', len) : NULL;
    if (cr == NULL)
        return 0;
    if ((size_t)(cr - p) + 1 >= len)
        return 0;
    if (cr[1] != '\n' || cr == p)
        return -1;
    size_t head = (size_t)(cr - p) + 2;
    int ok;
    long long n;
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
        out->type = p[0] == '+' ? REPLY_STATUS : p[0] == '-' ? REPLY_ERROR : REPLY_INTEGER;
        out->str = p + 1;
        out->len = (size_t)(cr - p) - 1;
        return (ssize_t)head;
    case '$':
        n = parse_len(p + 1, cr, &ok);
        if (!ok || n < -1)
            return -1;
        if (n == -1) {
            out->type = REPLY_NIL;
            out->str = NULL;
            out->len = 0;
            return (ssize_t)head;
        }
        if (len < head + (size_t)n + 2)
            return 0;
        if (p[head + n] != '\r' || p[head + n + 1] != '\n')
            return -1;
        out->type = REPLY_BULK;
        out->str = p + head;
        out->len = (size_t)n;
        return (ssize_t)(head + (size_t)n + 2);
    case '*':
        n = parse_len(p + 1, cr, &ok);
        if (!ok || n < -1 || depth >= REPLY_MAX_DEPTH)
            return -1;
        out->str = NULL;
        out->len = 0;
        if (n == -1) {
            out->type = REPLY_NIL;
            return (ssize_t)head;
        }
        size_t off = head;
        for (long long i = 0; i < n; i++) {
            reply_t elem;
            ssize_t used = parse_at(p + off, len - off, &elem, depth + 1);
            if (used <= 0)
                return used;
            off += (size_t)used;
        }
        out->type = REPLY_ARRAY;
        out->len = (size_t)n;
        return (ssize_t)off;
    default:
        return -1;
    }
}

ssize_t reply_parse(const char *p, size_t len, reply_t *out)
{
    return parse_at(p, len, out, 0);
}
