/*
 * backend.h - a worker's view of one pnode (a server) and its connections
 * to it. Each connection pipelines: requests are written as they come and
 * their replies, which Redis sends in order, are matched to a FIFO. A
 * server that cannot be reached fails requests at once until its backoff
 * ends; a connection that drops fails every request in flight on it.
 */
#ifndef RP_BACKEND_H
#define RP_BACKEND_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "request.h"
#include "resp.h"
#include "stats.h"

#include "conn.h"

struct worker;
struct evbuffer;

/* The longest a down pnode's requests fail without a connect attempt. */
#define SERVER_RETRY_MAX_MS 100

typedef enum { BACKEND_IDLE = 0, BACKEND_CONNECTING, BACKEND_CONNECTED } backend_state_t;

typedef struct backend {
    TAILQ_ENTRY(backend) dlink; /* a dedicated one: in its server's list */
    struct server *server;      /* NULL: a dedicated one whose server left */
    conn_t *conn;
    backend_state_t state;
    struct request_queue inflight;
    size_t ninflight;
    resp_scan_t scan;
    int authing;        /* replies owed to the AUTH and HELLO sent on connect */
    int resp3;          /* opened with HELLO 3: serves RESP3 clients */
    int answered;       /* a reply came on this connection */
    uint64_t dropped;   /* bytes dropped so far of a reply over the hard limit */
    int dedicated;      /* one client's (pinned.c): no reconnect, no read timeout */
} backend_t;

TAILQ_HEAD(backend_list, backend);

typedef struct server {
    TAILQ_ENTRY(server) link;
    struct worker *worker;
    char *name;                 /* tcp://HOST:PORT */
    struct sockaddr_storage addr;
    int addrlen;
    char addr_err[320];         /* why the name has no usable address */
    char *tls_host;             /* tls:// pnodes: the name to verify */
    backend_t *conns;           /* nconns RESP2 ones, then nconns RESP3 ones */
    int nconns;
    int next;                   /* round robin over conns */
    int next3;                  /* and over the RESP3 ones */
    int down;                   /* last connect failed: wait for backoff */
    uint64_t retry_at_ms;
    int backoff_ms;
    char reason[128];
    int retiring;               /* no longer in the ring: free when drained */
    struct backend_list dedicated; /* one client's connections each */
    int nlinks;                 /* clients' subscription connections to it */
    stats_pnode_slot_t *st;     /* this worker's counters for the pnode */
} server_t;

TAILQ_HEAD(server_list, server);

server_t *server_new(struct worker *w, const char *name);
void server_free(server_t *s);
/* Opens every connection now (preconnect). */
void server_connect(server_t *s);
size_t server_inflight(const server_t *s);
/* A new connection to s with ops; AUTH (backend-password) and, for resp3,
 * HELLO 3 are queued on it ahead of anything else, and *owed says how many
 * replies they will get. NULL, with s marked down, if it cannot start. */
conn_t *server_open(server_t *s, const conn_ops_t *ops, void *arg, int resp3, int *owed);
/* Sends r, whose bytes are the next len bytes of src (moved), to s. */
void server_send(server_t *s, request_t *r, struct evbuffer *src, size_t len);

/* A connection to s for one client's requests only (blocking commands,
 * WATCH): opened now, never reopened, no server timeout. NULL with the
 * error made on r when s is down or out of memory. */
backend_t *backend_dedicated_new(server_t *s, request_t *r);
/* 1 while b can still carry requests. */
int backend_dedicated_alive(const backend_t *b);
/* As server_send, on b; a closed b fails r. */
void backend_dedicated_send(backend_t *b, request_t *r, struct evbuffer *src, size_t len);
/* Closes b; a request in flight on it gets an error. */
void backend_dedicated_free(backend_t *b);

#endif
