/*
 * conn.h - a non-blocking socket with an input and an output evbuffer.
 *
 * Why not bufferevents: they ask the kernel how much is readable before
 * every read (an ioctl) and add and remove the write event around every
 * write (two epoll_ctl calls), three extra system calls per request at
 * pipeline depth 1. A conn reads into reserved buffer space, and writes
 * once per event-loop pass from a per-loop flusher, arming a write event
 * only when the socket is full. Requests from many clients to one pnode
 * written in the same pass leave in one writev.
 *
 * A TLS conn is a bufferevent_openssl underneath (OpenSSL's records and
 * handshakes are what that already does well); in is its input, out is
 * passed to it by the same flusher, and the same ops and calls apply, so
 * clients and backends do not care.
 */
#ifndef RP_CONN_H
#define RP_CONN_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>

struct evbuffer;
struct bufferevent;
typedef struct ssl_st SSL;

typedef enum {
    CONN_CONNECTED = 1, /* an outgoing connect finished */
    CONN_EOF,           /* the peer closed */
    CONN_ERROR,         /* err says why */
    CONN_TIMEOUT,       /* no input within the read timeout, or connect timed out */
} conn_event_t;

typedef struct conn conn_t;

typedef struct conn_ops {
    void (*read)(conn_t *c, void *arg);     /* new bytes in c->in */
    void (*drained)(conn_t *c, void *arg);  /* c->out was written out; may be NULL */
    void (*event)(conn_t *c, conn_event_t what, int err, void *arg);
} conn_ops_t;

/* The flusher of one event loop. */
typedef struct conn_loop {
    struct event_base *base;
    struct event *flush_ev;
    TAILQ_HEAD(, conn) dirty;
    uint64_t bytes_in, bytes_out; /* see stats.h */
} conn_loop_t;

struct conn {
    conn_loop_t *loop;
    evutil_socket_t fd;
    struct event rev, wev;
    struct evbuffer *in, *out;
    const conn_ops_t *ops;
    void *arg;
    struct timeval read_timeout;
    int has_read_timeout;
    int reading;
    int connecting;
    int writing;       /* wev armed: the socket was full */
    int dirty;
    int aborted;       /* conn_abort: CONN_ERROR is due */
    struct bufferevent *bev; /* TLS; NULL: plain socket */
    int handshaking;   /* TLS: its own timeout applies until it is done */
    char *tls_err;     /* why the TLS conn failed */
    TAILQ_ENTRY(conn) flink;
};

int conn_loop_init(conn_loop_t *l, struct event_base *base);
void conn_loop_free(conn_loop_t *l);

/* Wraps an accepted socket; reading starts at once. */
conn_t *conn_new(conn_loop_t *l, evutil_socket_t fd, const conn_ops_t *ops, void *arg);
/* Starts a connect; CONN_CONNECTED, CONN_ERROR or CONN_TIMEOUT follows.
 * Output queued meanwhile is written once connected. NULL with *err set
 * when the connect fails at once. */
conn_t *conn_connect(conn_loop_t *l, const struct sockaddr *sa, int salen, int timeout_ms,
                     const conn_ops_t *ops, void *arg, int *err);
/* The same over TLS: ssl belongs to the conn from now on, also when NULL is
 * returned. An accepted conn must finish its handshake within handshake_ms
 * (CONN_TIMEOUT otherwise); the read timeout applies after it. For an
 * outgoing one CONN_CONNECTED follows the handshake, which the connect
 * timeout covers. */
conn_t *conn_new_tls(conn_loop_t *l, evutil_socket_t fd, SSL *ssl, int handshake_ms,
                     const conn_ops_t *ops, void *arg);
conn_t *conn_connect_tls(conn_loop_t *l, const struct sockaddr *sa, int salen, int timeout_ms,
                         SSL *ssl, const conn_ops_t *ops, void *arg, int *err);
void conn_free(conn_t *c);
/* What went wrong, for an err given to ops->event: strerror(err), or the
 * TLS reason (e.g. the certificate check that failed). */
const char *conn_strerror(const conn_t *c, int err);
/* 0 = none. Only time with no input at all counts. */
void conn_set_read_timeout(conn_t *c, int ms);
void conn_read_enable(conn_t *c, int on);
/* Output was added: write it before the loop sleeps again. */
void conn_flush_soon(conn_t *c);
/* Output not yet written to the socket (for TLS: not yet to OpenSSL). */
size_t conn_pending(const conn_t *c);
/* Drops the output and stops reading and writing; CONN_ERROR
 * (ECONNABORTED) follows from the event loop, so the owner is not freed
 * under callers still on the stack. */
void conn_abort(conn_t *c);

#endif
