/*
 * resp.c - byte-at-a-time state machines over headers; payloads are
 * skipped by length, so a frame split anywhere parses the same.
 * Error texts are Redis 7's where Redis has one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

enum {
    P_START = 0,
    P_MB_NUM,
    P_MB_LF,
    P_BULK_START,
    P_BULK_NUM,
    P_BULK_LF,
    P_BULK_DATA,
    P_BULK_CR,
    P_BULK_LF2,
    P_INLINE,
};

/* Longest length line we accept: enough for any int64. */
#define RESP_MAX_DIGITS 18

void resp_parser_init(resp_parser_t *p, uint64_t max_bytes)
{
    memset(p, 0, sizeof(*p));
    p->max_bytes = max_bytes;
}

void resp_parser_free(resp_parser_t *p)
{
    free(p->args);
    free(p->inl);
    memset(p, 0, sizeof(*p));
}

void resp_parser_reset(resp_parser_t *p)
{
    p->state = P_START;
    p->pos = 0;
    p->nargs = 0;
    p->nread = 0;
    p->is_inline = 0;
    p->inl_len = 0;
    p->err = NULL;
}

static int resp_fail(resp_parser_t *p, const char *err)
{
    p->err = err;
    return RESP_ERROR;
}

static int resp_add_arg(resp_parser_t *p, size_t off, size_t len)
{
    if (p->nread == p->args_cap) {
        uint32_t cap = p->args_cap ? p->args_cap * 2 : 16;
        resp_arg_t *a = realloc(p->args, cap * sizeof(*a));
        if (a == NULL)
            return -1;
        p->args = a;
        p->args_cap = cap;
    }
    p->args[p->nread].off = off;
    p->args[p->nread].len = len;
    p->nread++;
    return 0;
}

/* A digit of a length line, by string2ll's rules: an optional '-', then no
 * leading zero unless the number is 0. Returns 0, or -1 for a bad byte. */
static int resp_digit(int64_t *num, int *neg, int *ndigits, char c)
{
    if (c == '-' && *ndigits == 0 && !*neg) {
        *neg = 1;
        return 0;
    }
    if (c < '0' || c > '9' || *ndigits >= RESP_MAX_DIGITS)
        return -1;
    if (*ndigits == 1 && *num == 0)
        return -1;
    if (c == '0' && *ndigits == 0 && *neg)
        return -1;
    *num = *num * 10 + (c - '0');
    (*ndigits)++;
    return 0;
}

static int resp_inline_append(resp_parser_t *p, char c)
{
    if (p->inl_len == p->inl_cap) {
        size_t cap = p->inl_cap ? p->inl_cap * 2 : 256;
        char *s = realloc(p->inl, cap);
        if (s == NULL)
            return -1;
        p->inl = s;
        p->inl_cap = cap;
    }
    p->inl[p->inl_len++] = c;
    return 0;
}

static int resp_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Splits the inline line in inl in place as Redis's sdssplitargs does:
 * blanks separate arguments, "..." with C escapes and '...' with \' . */
static int resp_inline_split(resp_parser_t *p)
{
    char *s = p->inl, *end = p->inl + p->inl_len;
    while (end > s && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    p->nread = 0;
    while (1) {
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s == end)
            break;
        char *out = s, *start = s;
        int inq = 0, insq = 0;
        if (*s == '"') {
            inq = 1;
            s++;
        } else if (*s == '\'') {
            insq = 1;
            s++;
        }
        for (;;) {
            if (inq) {
                if (s == end)
                    return resp_fail(p, "Protocol error: unbalanced quotes in request");
                if (*s == '\\' && s + 3 < end && s[1] == 'x' && resp_hex(s[2]) >= 0 &&
                    resp_hex(s[3]) >= 0) {
                    *out++ = (char)(resp_hex(s[2]) * 16 + resp_hex(s[3]));
                    s += 4;
                } else if (*s == '\\' && s + 1 < end) {
                    char c;
                    s++;
                    switch (*s) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *s; break;
                    }
                    *out++ = c;
                    s++;
                } else if (*s == '"') {
                    s++;
                    if (s < end && !isspace((unsigned char)*s))
                        return resp_fail(p, "Protocol error: unbalanced quotes in request");
                    break;
                } else {
                    *out++ = *s++;
                }
            } else if (insq) {
                if (s == end)
                    return resp_fail(p, "Protocol error: unbalanced quotes in request");
                if (*s == '\\' && s + 1 < end && s[1] == '\'') {
                    *out++ = '\'';
                    s += 2;
                } else if (*s == '\'') {
                    s++;
                    if (s < end && !isspace((unsigned char)*s))
                        return resp_fail(p, "Protocol error: unbalanced quotes in request");
                    break;
                } else {
                    *out++ = *s++;
                }
            } else {
                if (s == end || isspace((unsigned char)*s))
                    break;
                *out++ = *s++;
            }
        }
        if (p->nread >= RESP_MAX_ARGS)
            return resp_fail(p, "Protocol error: invalid multibulk length");
        if (resp_add_arg(p, (size_t)(start - p->inl), (size_t)(out - start)) < 0)
            return resp_fail(p, "Protocol error: out of memory");
    }
    p->nargs = p->nread;
    return RESP_OK;
}

int resp_parse(resp_parser_t *p, const char *buf, size_t len, size_t *used)
{
    size_t i = 0;

    while (i < len) {
        char c = buf[i];
        switch (p->state) {
        case P_START:
            if (c == '*') {
                p->state = P_MB_NUM;
                p->num = 0;
                p->neg = 0;
                p->ndigits = 0;
                i++;
                p->pos++;
            } else {
                p->state = P_INLINE;
                p->is_inline = 1;
            }
            break;
        case P_MB_NUM:
            if (c == '\r') {
                if (p->ndigits == 0)
                    return resp_fail(p, "Protocol error: invalid multibulk length");
                p->state = P_MB_LF;
            } else if (resp_digit(&p->num, &p->neg, &p->ndigits, c) < 0) {
                return resp_fail(p, "Protocol error: invalid multibulk length");
            }
            i++;
            p->pos++;
            break;
        case P_MB_LF:
            if (c != '\n')
                return resp_fail(p, "Protocol error: invalid multibulk length");
            i++;
            p->pos++;
            if (p->neg || p->num == 0) {
                /* *0 and *-1 are empty requests: Redis skips them. */
                p->nargs = 0;
                *used = i;
                return RESP_OK;
            }
            if (p->num > RESP_MAX_ARGS)
                return resp_fail(p, "Protocol error: invalid multibulk length");
            p->nargs = (uint32_t)p->num;
            p->nread = 0;
            p->state = P_BULK_START;
            break;
        case P_BULK_START:
            if (c != '$') {
                snprintf(p->errbuf, sizeof(p->errbuf), "Protocol error: expected '$', got '%c'",
                         c >= 32 && c < 127 ? c : ' ');
                return resp_fail(p, p->errbuf);
            }
            p->state = P_BULK_NUM;
            p->num = 0;
            p->neg = 0;
            p->ndigits = 0;
            i++;
            p->pos++;
            break;
        case P_BULK_NUM:
            if (c == '\r') {
                if (p->ndigits == 0)
                    return resp_fail(p, "Protocol error: invalid bulk length");
                p->state = P_BULK_LF;
            } else if (resp_digit(&p->num, &p->neg, &p->ndigits, c) < 0) {
                return resp_fail(p, "Protocol error: invalid bulk length");
            }
            i++;
            p->pos++;
            break;
        case P_BULK_LF:
            if (c != '\n' || p->neg || (uint64_t)p->num > p->max_bytes)
                return resp_fail(p, "Protocol error: invalid bulk length");
            i++;
            p->pos++;
            if (p->pos + (uint64_t)p->num + 2 > p->max_bytes)
                return resp_fail(p, "Protocol error: request too big");
            if (resp_add_arg(p, p->pos, (size_t)p->num) < 0)
                return resp_fail(p, "Protocol error: out of memory");
            p->left = (size_t)p->num;
            p->state = p->left ? P_BULK_DATA : P_BULK_CR;
            break;
        case P_BULK_DATA: {
            size_t n = len - i < p->left ? len - i : p->left;
            i += n;
            p->pos += n;
            p->left -= n;
            if (p->left == 0)
                p->state = P_BULK_CR;
            break;
        }
        case P_BULK_CR:
            if (c != '\r')
                return resp_fail(p, "Protocol error: expected CRLF after bulk argument");
            p->state = P_BULK_LF2;
            i++;
            p->pos++;
            break;
        case P_BULK_LF2:
            if (c != '\n')
                return resp_fail(p, "Protocol error: expected CRLF after bulk argument");
            i++;
            p->pos++;
            if (p->nread == p->nargs) {
                *used = i;
                return RESP_OK;
            }
            p->state = P_BULK_START;
            break;
        case P_INLINE: {
            const char *nl = memchr(buf + i, '\n', len - i);
            size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;
            if (p->inl_len + n > RESP_INLINE_MAX)
                return resp_fail(p, "Protocol error: too big inline request");
            for (size_t k = 0; k < n; k++) {
                if (resp_inline_append(p, buf[i + k]) < 0)
                    return resp_fail(p, "Protocol error: out of memory");
            }
            i += n;
            p->pos += n;
            if (nl != NULL) {
                *used = i;
                return resp_inline_split(p);
            }
            break;
        }
        }
    }
    *used = i;
    return RESP_AGAIN;
}

/* --- server replies ------------------------------------------------------ */

enum {
    S_TYPE = 0,
    S_LINE,
    S_NUM,
    S_NUM_LF,
    S_SKIP,
};

enum { K_BULK, K_AGG, K_MAP, K_ATTR };

void resp_scan_init(resp_scan_t *s)
{
    memset(s, 0, sizeof(*s));
    s->pending = 1;
}

static int resp_scan_fail(resp_scan_t *s, const char *err)
{
    s->err = err;
    return RESP_ERROR;
}

int resp_scan(resp_scan_t *s, const char *buf, size_t len, size_t *used)
{
    size_t i = 0;

    while (i < len) {
        char c = buf[i];
        switch (s->state) {
        case S_TYPE:
            if (s->pos == 0)
                s->type = c;
            switch (c) {
            case '+': case '-': case ':': case '_': case '#': case ',': case '(':
                s->state = S_LINE;
                break;
            case '$': case '=': case '!':
                s->kind = K_BULK;
                s->state = S_NUM;
                break;
            case '*': case '~': case '>':
                s->kind = K_AGG;
                s->state = S_NUM;
                break;
            case '%':
                s->kind = K_MAP;
                s->state = S_NUM;
                break;
            case '|':
                s->kind = K_ATTR;
                s->state = S_NUM;
                break;
            default:
                return resp_scan_fail(s, "bad reply type byte");
            }
            s->num = 0;
            s->neg = 0;
            s->ndigits = 0;
            i++;
            s->pos++;
            break;
        case S_LINE: {
            const char *nl = memchr(buf + i, '\n', len - i);
            size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;
            i += n;
            s->pos += n;
            if (nl != NULL) {
                s->state = S_TYPE;
                if (--s->pending == 0) {
                    *used = i;
                    return RESP_OK;
                }
            }
            break;
        }
        case S_NUM:
            if (c == '\r') {
                if (s->ndigits == 0)
                    return resp_scan_fail(s, "bad length in reply");
                s->state = S_NUM_LF;
            } else if (c == '-' && s->ndigits == 0 && !s->neg) {
                s->neg = 1;
            } else if (c >= '0' && c <= '9' && s->ndigits < RESP_MAX_DIGITS) {
                s->num = s->num * 10 + (c - '0');
                s->ndigits++;
            } else {
                return resp_scan_fail(s, "bad length in reply");
            }
            i++;
            s->pos++;
            break;
        case S_NUM_LF:
            if (c != '\n')
                return resp_scan_fail(s, "bad length in reply");
            i++;
            s->pos++;
            if (s->neg) {
                /* $-1 and *-1: nil */
                s->state = S_TYPE;
            } else if (s->kind == K_BULK) {
                s->left = (size_t)s->num + 2;
                s->state = S_SKIP;
                break;
            } else {
                /* A server's aggregate holds fewer than 2^32 elements; a
                 * larger count is garbage that would overflow pending. */
                int64_t add = s->kind == K_AGG ? s->num : 2 * s->num;
                if (s->num > UINT32_MAX || s->pending > INT64_MAX - add)
                    return resp_scan_fail(s, "aggregate too large in reply");
                s->pending += add;
                s->state = S_TYPE;
                /* An attribute map comes before the element it describes
                 * and is not one itself. */
                if (s->kind == K_ATTR)
                    break;
            }
            if (--s->pending == 0) {
                *used = i;
                return RESP_OK;
            }
            break;
        case S_SKIP: {
            size_t n = len - i < s->left ? len - i : s->left;
            i += n;
            s->pos += n;
            s->left -= n;
            if (s->left == 0) {
                s->state = S_TYPE;
                if (--s->pending == 0) {
                    *used = i;
                    return RESP_OK;
                }
            }
            break;
        }
        }
    }
    *used = i;
    return RESP_AGAIN;
}

size_t resp_reply_len(const char *buf, size_t len)
{
    resp_scan_t s;
    size_t used;
    resp_scan_init(&s);
    if (resp_scan(&s, buf, len, &used) != RESP_OK)
        return 0;
    return s.pos;
}
