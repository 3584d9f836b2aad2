/*
 * backend.c - pnode connections. Replies are found with resp_scan over the
 * input buffer's chains and moved to their client with
 * evbuffer_remove_buffer, never copied byte by byte.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "backend.h"
#include "log.h"
#include "ring.h"
#include "worker.h"

static uint64_t backend_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int server_resolve(server_t *s)
{
    ring_addr_t a;
    char err[RING_ERRLEN], port[8];
    struct evutil_addrinfo hints, *res = NULL;

    if (ring_pnode_addr(s->name, &a, err) < 0) {
        snprintf(s->addr_err, sizeof(s->addr_err), "not an address");
        return -1;
    }
    if (a.tls) {
        snprintf(s->addr_err, sizeof(s->addr_err), "tls backends are not supported");
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", (unsigned)a.port);
    int rc = evutil_getaddrinfo(a.host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(s->addr_err, sizeof(s->addr_err), "cannot resolve %s: %s", a.host,
                 evutil_gai_strerror(rc));
        return -1;
    }
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->addrlen = (int)res->ai_addrlen;
    evutil_freeaddrinfo(res);
    return 0;
}

server_t *server_new(worker_t *w, const char *name)
{
    server_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->worker = w;
    s->name = strdup(name);
    s->nconns = w->cfg->backend_connections;
    s->conns = calloc((size_t)s->nconns, sizeof(*s->conns));
    if (s->name == NULL || s->conns == NULL) {
        free(s->name);
        free(s->conns);
        free(s);
        return NULL;
    }
    for (int i = 0; i < s->nconns; i++) {
        s->conns[i].server = s;
        TAILQ_INIT(&s->conns[i].inflight);
    }
    server_resolve(s);
    return s;
}

/* Every request in flight on b gets the error; none is retried, because a
 * write may already have been applied. */
static void backend_fail_all(backend_t *b, const char *reason)
{
    request_t *r;
    while ((r = TAILQ_FIRST(&b->inflight)) != NULL) {
        TAILQ_REMOVE(&b->inflight, r, bq);
        b->ninflight--;
        request_error(r, "ERR pnode %s unavailable: %s", b->server->name, reason);
    }
}

static void backend_close(backend_t *b)
{
    if (b->bev != NULL) {
        bufferevent_free(b->bev);
        b->bev = NULL;
    }
    b->state = BACKEND_IDLE;
    resp_scan_init(&b->scan);
}

void server_free(server_t *s)
{
    for (int i = 0; i < s->nconns; i++) {
        backend_close(&s->conns[i]);
        backend_fail_all(&s->conns[i], "proxy shutting down");
    }
    free(s->conns);
    free(s->name);
    free(s);
}

size_t server_inflight(const server_t *s)
{
    size_t n = 0;
    for (int i = 0; i < s->nconns; i++)
        n += s->conns[i].ninflight;
    return n;
}

static void server_mark_down(server_t *s, const char *reason)
{
    const config_t *cfg = s->worker->cfg;
    if (!s->down)
        log_warn("backend down pnode=%s worker=%d reason=\"%s\"", s->name, s->worker->id, reason);
    s->down = 1;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : cfg->reconnect_min_ms;
    if (s->backoff_ms > cfg->reconnect_max_ms)
        s->backoff_ms = cfg->reconnect_max_ms;
    s->retry_at_ms = backend_now_ms() + (uint64_t)s->backoff_ms;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

static void backend_scan_replies(backend_t *b)
{
    struct evbuffer *in = bufferevent_get_input(b->bev);
    struct evbuffer_iovec v[8];
    struct evbuffer_ptr ptr;

    for (;;) {
        size_t avail = evbuffer_get_length(in);
        if (avail <= b->scan.pos)
            return;
        if (evbuffer_ptr_set(in, &ptr, b->scan.pos, EVBUFFER_PTR_SET) < 0)
            return;
        int n = evbuffer_peek(in, -1, &ptr, v, 8);
        if (n > 8)
            n = 8;
        int rc = RESP_AGAIN;
        for (int i = 0; i < n && rc == RESP_AGAIN; i++) {
            size_t used;
            rc = resp_scan(&b->scan, v[i].iov_base, v[i].iov_len, &used);
        }
        if (rc == RESP_AGAIN)
            continue;
        request_t *r = TAILQ_FIRST(&b->inflight);
        if (rc == RESP_ERROR || r == NULL) {
            const char *why = rc == RESP_ERROR ? b->scan.err : "reply without a request";
            log_warn("backend protocol error pnode=%s reason=\"%s\"", b->server->name, why);
            backend_close(b);
            backend_fail_all(b, "protocol error from the server");
            return;
        }
        TAILQ_REMOVE(&b->inflight, r, bq);
        b->ninflight--;
        size_t len = b->scan.pos;
        resp_scan_init(&b->scan);
        request_reply(r, in, len);
    }
}

static void backend_read_cb(struct bufferevent *bev, void *arg)
{
    backend_scan_replies(arg);
}

static void backend_event_cb(struct bufferevent *bev, short what, void *arg)
{
    backend_t *b = arg;
    server_t *s = b->server;
    char reason[128];

    if (what & BEV_EVENT_CONNECTED) {
        evutil_socket_t fd = bufferevent_getfd(bev);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        b->state = BACKEND_CONNECTED;
        if (s->down || s->backoff_ms)
            log_info("backend up pnode=%s worker=%d", s->name, s->worker->id);
        s->down = 0;
        s->backoff_ms = 0;
        int ms = s->worker->cfg->server_timeout_ms;
        if (ms > 0) {
            struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
            bufferevent_set_timeouts(bev, &tv, &tv);
        } else {
            bufferevent_set_timeouts(bev, NULL, NULL);
        }
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        if (b->state == BACKEND_CONNECTED && b->ninflight == 0) {
            /* Only time with requests outstanding counts. */
            bufferevent_enable(bev, EV_READ | EV_WRITE);
            return;
        }
        if (b->state == BACKEND_CONNECTING)
            snprintf(reason, sizeof(reason), "connect timed out after %d ms",
                     s->worker->cfg->connect_timeout_ms);
        else
            snprintf(reason, sizeof(reason), "no reply within %d ms",
                     s->worker->cfg->server_timeout_ms);
    } else if (what & BEV_EVENT_EOF) {
        snprintf(reason, sizeof(reason), "connection closed by the server");
    } else {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(reason, sizeof(reason), "%s", e ? evutil_socket_error_to_string(e) : "connection error");
    }
    int was_connecting = b->state == BACKEND_CONNECTING;
    backend_close(b);
    if (was_connecting)
        server_mark_down(s, reason);
    else
        log_warn("backend connection lost pnode=%s worker=%d reason=\"%s\"", s->name, s->worker->id, reason);
    backend_fail_all(b, reason);
}

static int backend_connect(backend_t *b)
{
    server_t *s = b->server;
    const config_t *cfg = s->worker->cfg;

    b->bev = bufferevent_socket_new(s->worker->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (b->bev == NULL) {
        server_mark_down(s, "cannot create a connection");
        return -1;
    }
    resp_scan_init(&b->scan);
    bufferevent_setcb(b->bev, backend_read_cb, NULL, backend_event_cb, b);
    struct timeval tv = { cfg->connect_timeout_ms / 1000, (cfg->connect_timeout_ms % 1000) * 1000 };
    bufferevent_set_timeouts(b->bev, &tv, &tv);
    bufferevent_enable(b->bev, EV_READ | EV_WRITE);
    b->state = BACKEND_CONNECTING;
    if (bufferevent_socket_connect(b->bev, (struct sockaddr *)&s->addr, s->addrlen) < 0) {
        int e = EVUTIL_SOCKET_ERROR();
        backend_close(b);
        server_mark_down(s, e ? evutil_socket_error_to_string(e) : "connect failed");
        return -1;
    }
    return 0;
}

void server_connect(server_t *s)
{
    if (s->addrlen == 0)
        return;
    for (int i = 0; i < s->nconns; i++) {
        if (s->conns[i].state == BACKEND_IDLE)
            backend_connect(&s->conns[i]);
    }
}

void server_send(server_t *s, request_t *r, struct evbuffer *src, size_t len)
{
    backend_t *b = &s->conns[s->next];
    if (++s->next == s->nconns)
        s->next = 0;

    if (s->addrlen == 0) {
        evbuffer_drain(src, len);
        request_error(r, "ERR pnode %s unavailable: %s", s->name, s->addr_err);
        return;
    }
    if (b->state == BACKEND_IDLE) {
        if (s->down && backend_now_ms() < s->retry_at_ms) {
            evbuffer_drain(src, len);
            request_error(r, "ERR pnode %s unavailable: %s", s->name, s->reason);
            return;
        }
        if (backend_connect(b) < 0) {
            evbuffer_drain(src, len);
            request_error(r, "ERR pnode %s unavailable: %s", s->name, s->reason);
            return;
        }
    }
    TAILQ_INSERT_TAIL(&b->inflight, r, bq);
    b->ninflight++;
    evbuffer_remove_buffer(src, bufferevent_get_output(b->bev), len);
}
