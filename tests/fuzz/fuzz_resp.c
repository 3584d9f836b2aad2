/*
 * fuzz_resp.c - libFuzzer target: the proxy's RESP request parser and its
 * server reply scanner. The input (after two control bytes: the parser's
 * max_bytes and the seed of the chunk sizes) is read as a stream of client
 * requests twice: whole, with a fresh parser per request, and in chunks of
 * input-chosen sizes with one parser reset between requests, as the proxy
 * feeds it. Both must see the same requests, arguments and ending. Then
 * the same bytes are scanned as server replies, whole and chunked.
 *
 * FUZZ_SOURCES: src/resp.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* What one pass saw: a digest of every request or reply, how many, how
 * bytes the complete ones used, and how the stream ended. */
typedef struct {
    uint64_t digest;
    size_t count;
    size_t consumed;
    int rc;
    char err[80]; /* the error text, "" if none */
    size_t partial;
} outcome_t;

typedef struct {
    uint32_t x; /* 0: whole, else xorshift state for chunk sizes */
} chunker_t;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static size_t next_chunk(chunker_t *c, size_t left)
{
    size_t n;
    if (c->x == 0)
        return left;
    c->x ^= c->x << 13;
    c->x ^= c->x >> 17;
    c->x ^= c->x << 5;
    /* mostly tiny pieces (frames split inside headers), sometimes large */
    n = (c->x & 0x30) ? 1 + c->x % 7 : 1 + c->x % 700;
    return n < left ? n : left;
}

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Checks one complete request that ends at buf[end] and adds it to o. */
static void record_request(const resp_parser_t *p, const unsigned char *buf, size_t end,
                           outcome_t *o)
{
    size_t start, prev_end;

    check(p->pos <= end && p->pos > 0);
    start = end - p->pos;
    o->digest = mix(o->digest, &p->pos, sizeof(p->pos));
    o->digest = mix(o->digest, &p->nargs, sizeof(p->nargs));
    o->digest = mix(o->digest, &p->is_inline, sizeof(p->is_inline));
    check(p->nargs <= RESP_MAX_ARGS);
    if (p->is_inline) {
        check(p->pos <= RESP_INLINE_MAX);
        check(buf[end - 1] == '\n');
        for (uint32_t i = 0; i < p->nargs; i++) {
            const resp_arg_t *a = &p->args[i];
            check(a->off + a->len <= p->inl_len && a->off + a->len <= p->pos);
            o->digest = mix(o->digest, p->inl + a->off, a->len);
        }
    } else {
        check(buf[start] == '*' && buf[end - 2] == '\r' && buf[end - 1] == '\n');
        check(p->pos <= p->max_bytes || p->nargs == 0);
        prev_end = 0;
        for (uint32_t i = 0; i < p->nargs; i++) {
            const resp_arg_t *a = &p->args[i];
            /* "$N\r\n" precedes each argument and "\r\n" follows it */
            check(a->off >= prev_end + 4 && a->off + a->len + 2 <= p->pos);
            check(buf[start + a->off - 2] == '\r' && buf[start + a->off - 1] == '\n');
            check(buf[start + a->off + a->len] == '\r' &&
                  buf[start + a->off + a->len + 1] == '\n');
            o->digest = mix(o->digest, buf + start + a->off, a->len);
            prev_end = a->off + a->len + 2;
        }
        check(prev_end == p->pos || p->nargs == 0);
    }
    o->count++;
}

/* The request parser or the reply scanner, fed the same way. */
typedef struct {
    int scan;            /* 0: resp_parse, 1: resp_scan */
    int whole;           /* a fresh parser per request instead of a reset */
    uint64_t max_bytes;
    resp_parser_t p;
    resp_scan_t s;
} reader_t;

static int reader_feed(reader_t *r, const unsigned char *buf, size_t n, size_t *used)
{
    if (r->scan)
        return resp_scan(&r->s, (const char *)buf, n, used);
    return resp_parse(&r->p, (const char *)buf, n, used);
}

/* Checks and records the request or reply that ends at buf[end], then
 * readies the reader for the next one. */
static void reader_complete(reader_t *r, const unsigned char *buf, size_t end, size_t len,
                            outcome_t *o)
{
    if (!r->scan) {
        record_request(&r->p, buf, end, o);
        if (r->whole) {
            /* compare reset (chunked pass) with a fresh init (this one) */
            resp_parser_free(&r->p);
            resp_parser_init(&r->p, r->max_bytes);
        } else {
            resp_parser_reset(&r->p);
        }
        return;
    }
    check(r->s.pos > 0 && r->s.pos <= end);
    /* a reply starts with its type byte (its end is not checked: bulk
     * payloads and their CRLF are skipped by length, trusting the server);
     * the one-shot helper agrees on its length */
    check(buf[end - r->s.pos] == (unsigned char)r->s.type);
    check(resp_reply_len((const char *)buf + end - r->s.pos, len - (end - r->s.pos)) ==
          r->s.pos);
    o->digest = mix(o->digest, &r->s.pos, sizeof(r->s.pos));
    o->count++;
    resp_scan_init(&r->s);
}

static void feed_stream(int scan, const unsigned char *buf, size_t len, uint64_t max_bytes,
                        chunker_t ck, outcome_t *o)
{
    reader_t r = { .scan = scan, .whole = ck.x == 0, .max_bytes = max_bytes };
    size_t off = 0, used;
    int rc = RESP_AGAIN;

    memset(o, 0, sizeof(*o));
    resp_parser_init(&r.p, max_bytes);
    resp_scan_init(&r.s);
    while (off < len) {
        size_t n = next_chunk(&ck, len - off);
        used = (size_t)-1;
        rc = reader_feed(&r, buf + off, n, &used);
        if (rc == RESP_ERROR) {
            const char *err = scan ? r.s.err : r.p.err;
            check(err != NULL && strlen(err) < sizeof(o->err));
            check(scan || strncmp(err, "Protocol error: ", 16) == 0);
            strcpy(o->err, err);
            break;
        }
        check(used <= n);
        off += used;
        if (rc == RESP_AGAIN) {
            check(used == n);
            continue;
        }
        check(rc == RESP_OK && used > 0);
        reader_complete(&r, buf, off, len, o);
        o->consumed = off;
    }
    o->rc = rc;
    if (rc == RESP_AGAIN) {
        o->partial = scan ? r.s.pos : r.p.pos;
        check(off == len && o->partial <= len);
    }
    resp_parser_free(&r.p);
}

static void same(const outcome_t *a, const outcome_t *b)
{
    check(a->digest == b->digest && a->count == b->count && a->consumed == b->consumed &&
          a->rc == b->rc && a->partial == b->partial);
    check(strcmp(a->err, b->err) == 0);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    outcome_t whole, chunked;
    uint64_t max_bytes;
    chunker_t ck;

    if (size < 2)
        return 0;
    /* a small limit, so that "request too big" is reached too */
    max_bytes = 8 + (uint64_t)data[0] * 4;
    ck.x = 0x9e3779b9u ^ data[1];
    data += 2;
    size -= 2;

    for (int scan = 0; scan <= 1; scan++) {
        feed_stream(scan, data, size, max_bytes, (chunker_t){ 0 }, &whole);
        feed_stream(scan, data, size, max_bytes, ck, &chunked);
        same(&whole, &chunked);
    }
    return 0;
}
