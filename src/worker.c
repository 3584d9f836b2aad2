/*
 * worker.c - a worker thread's loop, listener and servers. The servers are
 * keyed by pnode name so that a new ring keeps the connections to pnodes
 * it still names.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "worker.h"

/* How long the listeners rest when descriptors run out. */
#define WORKER_ACCEPT_REST_MS 100

/* Clients across all workers, for max-clients. */
static atomic_int worker_total_clients;

static void worker_accept(worker_t *w, evutil_socket_t fd, int tls)
{
    if (atomic_fetch_add(&worker_total_clients, 1) >= CONFIG_GET(w->cfg->max_clients)) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        atomic_fetch_sub(&worker_total_clients, 1);
        STAT_INC(w->stats.clients_rejected);
        /* A TLS client would read the plain error as a broken handshake. */
        if (!tls && send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            log_debug("client rejected worker=%d error=\"%s\"", w->id, strerror(errno));
        evutil_closesocket(fd);
        return;
    }
    STAT_INC(w->stats.clients_accepted);
    if (tls)
        STAT_INC(w->stats.tls_accepted);
    if (client_new(w, fd, tls) == NULL) {
        atomic_fetch_sub(&worker_total_clients, 1);
        evutil_closesocket(fd);
        log_warn("cannot create client worker=%d", w->id);
    }
}

static void worker_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                             int salen, void *arg)
{
    worker_accept(arg, fd, 0);
}

static void worker_accept_tls_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                                 int salen, void *arg)
{
    worker_accept(arg, fd, 1);
}

void worker_client_gone(worker_t *w)
{
    atomic_fetch_sub(&worker_total_clients, 1);
    if (w->stopping && w->nclients == 0)
        event_base_loopbreak(w->base);
}

static server_t *worker_server(worker_t *w, const char *name)
{
    server_t *s;
    TAILQ_FOREACH(s, &w->servers, link) {
        if (strcmp(s->name, name) == 0)
            return s;
    }
    s = server_new(w, name);
    if (s == NULL)
        return NULL;
    TAILQ_INSERT_TAIL(&w->servers, s, link);
    if (w->cfg->preconnect)
        server_connect(s);
    return s;
}

/* Servers the current ring does not name close once their requests are
 * answered. */
static void worker_retire_servers(worker_t *w)
{
    server_t *s, *next;
    for (s = TAILQ_FIRST(&w->servers); s != NULL; s = next) {
        next = TAILQ_NEXT(s, link);
        int used = 0;
        for (size_t i = 0; i < w->nmap && !used; i++)
            used = w->map[i] == s;
        s->retiring = !used;
        worker_server_drained(w, s);
    }
}

int worker_update_ring(worker_t *w)
{
    ringref_t *rr = ringref_acquire();
    if (rr == NULL)
        return -1;
    size_t n = ring_pnode_count(rr->ring);
    server_t **map = calloc(n ? n : 1, sizeof(*map));
    if (map == NULL) {
        ringref_release(rr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        map[i] = worker_server(w, ring_pnode_name(rr->ring, i));
        if (map[i] == NULL) {
            free(map);
            ringref_release(rr);
            return -1;
        }
    }
    free(w->map);
    w->map = map;
    w->nmap = n;
    ringref_release(w->rr);
    w->rr = rr;
    worker_retire_servers(w);
    log_debug("worker ring worker=%d generation=%llu", w->id,
              (unsigned long long)ring_generation(rr->ring));
    return 0;
}

void worker_server_drained(worker_t *w, server_t *s)
{
    if (s->retiring && server_inflight(s) == 0) {
        log_info("backend retired pnode=%s worker=%d", s->name, w->id);
        TAILQ_REMOVE(&w->servers, s, link);
        server_free(s);
    }
}

static void worker_ring_cb(evutil_socket_t fd, short what, void *arg)
{
    worker_refresh_ring(arg);
}

void worker_notify_ring(worker_t *w)
{
    event_active(w->ring_ev, 0, 0);
}

/* Out of descriptors, accept would fail again at once: the listeners rest
 * for a while (the pending clients wait in the backlog) instead of
 * spinning, and serve again once clients have gone. */
static void worker_listen_error_cb(struct evconnlistener *l, void *arg)
{
    static const struct timeval rest = { 0, WORKER_ACCEPT_REST_MS * 1000 };
    worker_t *w = arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (e == EMFILE || e == ENFILE) {
        STAT_INC(w->stats.accept_errors_fds);
        if (w->listener != NULL)
            evconnlistener_disable(w->listener);
        if (w->tls_listener != NULL)
            evconnlistener_disable(w->tls_listener);
        evtimer_add(w->accept_ev, &rest);
    }
    log_warn("accept failed worker=%d error=\"%s\"", w->id, evutil_socket_error_to_string(e));
}

static void worker_accept_rest_cb(evutil_socket_t fd, short what, void *arg)
{
    worker_t *w = arg;
    if (w->listener != NULL)
        evconnlistener_enable(w->listener);
    if (w->tls_listener != NULL)
        evconnlistener_enable(w->tls_listener);
}

static void worker_stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    worker_t *w = arg;
    log_warn("shutdown timed out worker=%d clients=%zu", w->id, w->nclients);
    event_base_loopbreak(w->base);
}

static void worker_close_listeners(worker_t *w)
{
    if (w->listener != NULL)
        evconnlistener_free(w->listener);
    if (w->tls_listener != NULL)
        evconnlistener_free(w->tls_listener);
    w->listener = w->tls_listener = NULL;
}

static void worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    worker_t *w = arg;
    client_t *c, *next;

    w->stopping = 1;
    worker_close_listeners(w);
    for (c = TAILQ_FIRST(&w->clients); c != NULL; c = next) {
        next = TAILQ_NEXT(c, link);
        client_shutdown(c);
        client_maybe_close(c);
    }
    if (w->nclients == 0)
        event_base_loopbreak(w->base);
}

static struct evconnlistener *worker_listener(worker_t *w, evconnlistener_cb cb,
                                              const struct sockaddr_storage *addr, int addrlen)
{
    struct evconnlistener *l = evconnlistener_new_bind(
        w->base, cb, w,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
        1024, (const struct sockaddr *)addr, addrlen);
    if (l == NULL)
        return NULL;
    evconnlistener_set_error_cb(l, worker_listen_error_cb);
    return l;
}

worker_t *worker_new(int id, const config_t *cfg, tls_t *tls, const worker_listen_t *ln,
                     char *err, size_t errlen)
{
    worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->id = id;
    w->cfg = cfg;
    w->tls = tls;
    TAILQ_INIT(&w->servers);
    TAILQ_INIT(&w->clients);
    w->base = event_base_new();
    w->scratch = evbuffer_new();
    if (w->base == NULL || w->scratch == NULL || conn_loop_init(&w->loop, w->base) < 0) {
        snprintf(err, errlen, "cannot create an event loop");
        worker_free(w);
        return NULL;
    }
    w->stop_ev = event_new(w->base, -1, 0, worker_stop_cb, w);
    w->stop_timer = evtimer_new(w->base, worker_stop_timer_cb, w);
    w->ring_ev = event_new(w->base, -1, 0, worker_ring_cb, w);
    w->accept_ev = evtimer_new(w->base, worker_accept_rest_cb, w);
    /* TLS first: once the plain port answers, both do. */
    if (ln->tls_addrlen > 0) {
        w->tls_listener = worker_listener(w, worker_accept_tls_cb, &ln->tls_addr, ln->tls_addrlen);
        if (w->tls_listener == NULL) {
            int e = EVUTIL_SOCKET_ERROR();
            snprintf(err, errlen, "cannot listen on tls-port %d: %s", cfg->tls_port,
                     evutil_socket_error_to_string(e));
            worker_free(w);
            return NULL;
        }
    }
    w->listener = worker_listener(w, worker_accept_cb, &ln->addr, ln->addrlen);
    if (w->listener == NULL) {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, evutil_socket_error_to_string(e));
        worker_free(w);
        return NULL;
    }
    if (worker_update_ring(w) < 0) {
        snprintf(err, errlen, "no ring to route with");
        worker_free(w);
        return NULL;
    }
    return w;
}

void worker_free(worker_t *w)
{
    client_t *c;
    server_t *s;
    request_t *r;

    if (w == NULL)
        return;
    while ((c = TAILQ_FIRST(&w->clients)) != NULL)
        client_free(c);
    while ((s = TAILQ_FIRST(&w->servers)) != NULL) {
        TAILQ_REMOVE(&w->servers, s, link);
        server_free(s);
    }
    while ((r = w->free_requests) != NULL) {
        w->free_requests = r->parent;
        evbuffer_free(r->reply);
        free(r);
    }
    worker_close_listeners(w);
    if (w->stop_ev != NULL)
        event_free(w->stop_ev);
    if (w->stop_timer != NULL)
        event_free(w->stop_timer);
    if (w->ring_ev != NULL)
        event_free(w->ring_ev);
    if (w->accept_ev != NULL)
        event_free(w->accept_ev);
    if (w->scratch != NULL)
        evbuffer_free(w->scratch);
    conn_loop_free(&w->loop);
    if (w->base != NULL)
        event_base_free(w->base);
    free(w->map);
    ringref_release(w->rr);
    free(w);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

int worker_start(worker_t *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

void worker_stop(worker_t *w, int timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(w->stop_timer, &tv);
    event_active(w->stop_ev, 0, 0);
}

void worker_join(worker_t *w)
{
    pthread_join(w->thread, NULL);
}
