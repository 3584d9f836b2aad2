/*
 * request.h - one client request on its way through the proxy. A request
 * sits in its client's queue (replies go out in that order) and, once
 * routed, in one backend connection's in-flight FIFO. A multi-key request
 * stays in the client's queue while its parts, one per pnode, sit in the
 * backends' FIFOs.
 */
#ifndef RP_REQUEST_H
#define RP_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct evbuffer;
struct client;
struct worker;
struct multikey;

typedef struct request request_t;

struct request {
    TAILQ_ENTRY(request) cq;   /* client's queue */
    TAILQ_ENTRY(request) bq;   /* backend connection's in-flight FIFO */
    struct client *client;     /* NULL once the client has gone */
    struct worker *worker;
    request_t *parent;         /* a part of this multi-key request */
    struct multikey *mk;       /* set on a multi-key request */
    struct evbuffer *reply;    /* the reply, until it can be written */
    size_t held;               /* reply bytes (its parts' too) counted
                                * against its client's output limits */
    unsigned part;             /* index among its parent's parts */
    unsigned skip;             /* pnode replies to drop before its own (EXEC's
                                * block: MULTI's +OK, the +QUEUEDs) */
    uint64_t sent_us;          /* when it went to its pnode */
    uint8_t klass;             /* STATS_*, for counting by class and result */
    uint8_t failed;            /* its error reply has been counted */
    uint8_t silent;            /* CLIENT REPLY OFF/SKIP: its reply is dropped */
    int done;
};

TAILQ_HEAD(request_queue, request);

request_t *request_new(struct worker *w);
void request_free(request_t *r);
/* The next len bytes of src are r's reply; moved, not copied. */
void request_reply(request_t *r, struct evbuffer *src, size_t len);
/* An error reply: "-" plus the formatted text plus CRLF. */
void request_error(request_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* r (or, for a part, its multi-key request) gets an error reply: counted
 * once per client request. */
void request_failed(request_t *r);
/* r->reply is complete: deliver it. */
void request_done(request_t *r);

#endif
