/*
 * resp.h - incremental RESP parsing.
 *
 * resp_parse reads client requests (multibulk or inline) as they arrive in
 * any number of pieces and yields the arguments as offset/length slices;
 * resp_scan finds where one reply of a server ends, for any RESP2 or RESP3
 * type including nested aggregates. Neither copies payload bytes, except
 * that inline commands are unescaped into the parser's own buffer.
 */
#ifndef RP_RESP_H
#define RP_RESP_H

#include <stddef.h>
#include <stdint.h>

#define RESP_ERROR -1  /* bad input; the parser's err says why */
#define RESP_AGAIN 0   /* every byte given was consumed; need more */
#define RESP_OK 1      /* one frame is complete */

#define RESP_MAX_ARGS (1024 * 1024)
#define RESP_INLINE_MAX (64 * 1024)

typedef struct {
    size_t off; /* from the start of the request, or of inl for inline */
    size_t len;
} resp_arg_t;

typedef struct resp_parser {
    uint64_t max_bytes;  /* largest request and largest bulk */
    int state;
    size_t pos;          /* bytes of the current request consumed */
    int64_t num;
    int neg;
    int ndigits;
    size_t left;         /* bulk bytes still to skip */
    uint32_t nargs;      /* arguments the request announced (set when done) */
    uint32_t nread;      /* arguments read so far */
    int is_inline;       /* args are slices of inl, not of the request */
    resp_arg_t *args;
    uint32_t args_cap;
    char *inl;
    size_t inl_len, inl_cap;
    const char *err;     /* "Protocol error: ..." after RESP_ERROR */
    char errbuf[64];
} resp_parser_t;

void resp_parser_init(resp_parser_t *p, uint64_t max_bytes);
void resp_parser_free(resp_parser_t *p);
/* Forgets the finished request; call before parsing the next one. */
void resp_parser_reset(resp_parser_t *p);
/*
 * Feeds the next len bytes of the request (those after the p->pos bytes
 * already fed). On RESP_OK *used says how many of them belong to the
 * request, p->pos is the request's whole length and p->nargs its argument
 * count (0 for an empty request, which Redis ignores).
 */
int resp_parse(resp_parser_t *p, const char *buf, size_t len, size_t *used);

typedef struct resp_scan {
    int state;
    int64_t pending;     /* elements not finished yet */
    int64_t num;
    int neg;
    int ndigits;
    int kind;
    size_t left;
    size_t pos;          /* bytes of the current reply consumed */
    char type;           /* the reply's first byte */
    const char *err;
} resp_scan_t;

void resp_scan_init(resp_scan_t *s);
/* Like resp_parse, for one server reply; on RESP_OK s->pos is its length. */
int resp_scan(resp_scan_t *s, const char *buf, size_t len, size_t *used);
/* The length of the one complete reply at buf, or 0 if buf holds none. */
size_t resp_reply_len(const char *buf, size_t len);

#endif
