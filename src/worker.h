/*
 * worker.h - one worker thread: its own event loop, listener, clients and
 * connections to every pnode, so nothing on the request path is shared
 * with other workers except the read-only ring.
 */
#ifndef RP_WORKER_H
#define RP_WORKER_H

#include <pthread.h>
#include <stddef.h>
#include <sys/queue.h>

#include "backend.h"
#include "client.h"
#include "config.h"
#include "conn.h"
#include "request.h"
#include "ringref.h"
#include "stats.h"
#include "tls.h"

#define WORKER_MAX_FREE_REQUESTS 4096

struct event_base;
struct evconnlistener;
struct event;
struct evbuffer;

typedef struct worker {
    int id;
    pthread_t thread;
    struct event_base *base;
    conn_loop_t loop;
    stats_t stats;
    struct evconnlistener *listener;
    struct evconnlistener *tls_listener; /* NULL: no tls-port */
    tls_t *tls;
    const config_t *cfg;
    ringref_t *rr;              /* the ring this worker routes with */
    server_t **map;             /* rr's pnode index -> server */
    size_t nmap;
    struct server_list servers; /* every server, in use or retiring */
    struct client_list clients;
    size_t nclients;
    request_t *free_requests;
    size_t nfree_requests;
    struct evbuffer *scratch;   /* building multi-key parts */
    struct event *stop_ev;
    struct event *stop_timer;
    struct event *ring_ev;
    struct event *accept_ev;    /* re-enables the listeners after EMFILE */
    int stopping;
} worker_t;

/* Where the workers listen (main has checked that the ports are free);
 * each worker binds its own SO_REUSEPORT listener there. */
typedef struct worker_listen {
    struct sockaddr_storage addr;
    int addrlen;
    struct sockaddr_storage tls_addr;
    int tls_addrlen;            /* 0: no TLS listener */
} worker_listen_t;

/* Creates the worker's loop and its listeners on ln's sockets. */
worker_t *worker_new(int id, const config_t *cfg, tls_t *tls, const worker_listen_t *ln,
                     char *err, size_t errlen);
void worker_free(worker_t *w);
int worker_start(worker_t *w);
/* From any thread: stop accepting, finish what is in flight, then exit
 * the loop (bounded by timeout_ms). */
void worker_stop(worker_t *w, int timeout_ms);
void worker_join(worker_t *w);
/* Routes with the current ring from now on (maps its pnodes to servers). */
int worker_update_ring(worker_t *w);
/* From any thread: a new ring was published; pick it up now rather than
 * at the next request. */
void worker_notify_ring(worker_t *w);
/* Frees s if it is retiring and has nothing in flight. */
void worker_server_drained(worker_t *w, server_t *s);
/* A client went away (called by client_free). */
void worker_client_gone(worker_t *w);

/* Picks up a newly published ring, if any; called at each request batch. */
static inline void worker_refresh_ring(worker_t *w)
{
    if (ringref_stale(w->rr))
        worker_update_ring(w);
}

#endif
