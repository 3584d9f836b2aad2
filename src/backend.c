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
#include <event2/util.h>

#include "auth.h"
#include "backend.h"
#include "log.h"
#include "ring.h"
#include "tls.h"
#include "worker.h"

static uint64_t backend_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t backend_now_ms(void)
{
    return backend_now_us() / 1000;
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
    if (a.tls && (s->tls_host = strdup(a.host)) == NULL) {
        snprintf(s->addr_err, sizeof(s->addr_err), "out of memory");
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
    /* The RESP3 half is opened only when a RESP3 client uses it. */
    s->conns = calloc(2 * (size_t)s->nconns, sizeof(*s->conns));
    s->st = stats_pnode_slot(name, w->id);
    if (s->name == NULL || s->conns == NULL || s->st == NULL) {
        free(s->name);
        free(s->conns);
        free(s);
        return NULL;
    }
    for (int i = 0; i < 2 * s->nconns; i++) {
        s->conns[i].server = s;
        s->conns[i].resp3 = i >= s->nconns;
        TAILQ_INIT(&s->conns[i].inflight);
    }
    TAILQ_INIT(&s->dedicated);
    server_resolve(s);
    return s;
}

/* Every request in flight on b gets the error; none is retried, because a
 * write may already have been applied. */
static void backend_fail_all(backend_t *b, const char *reason)
{
    server_t *s = b->server;
    struct request_queue q = TAILQ_HEAD_INITIALIZER(q);
    request_t *r;
    /* Taken off b first: an error reply may run its client's next
     * requests, which may free a dedicated b (pinned.c). */
    TAILQ_CONCAT(&q, &b->inflight, bq);
    b->ninflight = 0;
    while ((r = TAILQ_FIRST(&q)) != NULL) {
        TAILQ_REMOVE(&q, r, bq);
        STAT_DEC(s->st->inflight);
        STAT_INC(s->st->errors);
        STAT_INC(s->worker->stats.err_unavailable);
        request_error(r, "ERR pnode %s unavailable: %s", s->name, reason);
    }
}

static void backend_close(backend_t *b)
{
    if (b->conn != NULL) {
        conn_free(b->conn);
        b->conn = NULL;
    }
    b->state = BACKEND_IDLE;
    b->authing = 0;
    b->answered = 0;
    b->dropped = 0;
    resp_scan_init(&b->scan);
}

void server_free(server_t *s)
{
    /* A pnode leaving the ring while down is no longer down for us. */
    stats_pnode_mark(s->st, 0);
    for (int i = 0; i < 2 * s->nconns; i++) {
        backend_close(&s->conns[i]);
        backend_fail_all(&s->conns[i], "proxy shutting down");
    }
    /* Their clients still hold them: closed, and told the server is gone. */
    backend_t *d;
    while ((d = TAILQ_FIRST(&s->dedicated)) != NULL) {
        TAILQ_REMOVE(&s->dedicated, d, dlink);
        backend_close(d);
        backend_t gone = { .server = s };
        TAILQ_INIT(&gone.inflight);
        TAILQ_CONCAT(&gone.inflight, &d->inflight, bq);
        d->ninflight = 0;
        d->server = NULL;
        backend_fail_all(&gone, "no longer in the ring");
    }
    free(s->conns);
    free(s->name);
    free(s->tls_host);
    free(s);
}

size_t server_inflight(const server_t *s)
{
    size_t n = 0;
    const backend_t *d;
    for (int i = 0; i < 2 * s->nconns; i++)
        n += s->conns[i].ninflight;
    TAILQ_FOREACH(d, &s->dedicated, dlink)
        n += d->ninflight;
    n += (size_t)s->nlinks; /* kept until its subscribers leave */
    return n;
}

static void server_mark_down(server_t *s, const char *reason)
{
    const config_t *cfg = s->worker->cfg;
    /* Once per pnode, by the first worker to see it; the others at debug. */
    if (stats_pnode_mark(s->st, 1))
        log_warn("backend down pnode=%s worker=%d reason=\"%s\"", s->name, s->worker->id, reason);
    else if (!s->down)
        log_debug("backend down for worker pnode=%s worker=%d reason=\"%s\"", s->name,
                  s->worker->id, reason);
    s->down = 1;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : CONFIG_GET(cfg->reconnect_min_ms);
    if (s->backoff_ms > CONFIG_GET(cfg->reconnect_max_ms))
        s->backoff_ms = CONFIG_GET(cfg->reconnect_max_ms);
    /* Requests are what retries: they try again at least every
     * SERVER_RETRY_MAX_MS, so a pnode that is back is used within that,
     * however long it was down, and at most that often while it is not. */
    int wait = s->backoff_ms < SERVER_RETRY_MAX_MS ? s->backoff_ms : SERVER_RETRY_MAX_MS;
    s->retry_at_ms = backend_now_ms() + (uint64_t)wait;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

/* The server answered: forget its backoff. Not at connect time, because a
 * server may accept and then refuse (a TLS pnode that wants a client
 * certificate, a full Redis): that counts as a failed connect. */
static void backend_up(backend_t *b)
{
    server_t *s = b->server;
    b->answered = 1;
    if (stats_pnode_mark(s->st, 0))
        log_info("backend up again pnode=%s worker=%d", s->name, s->worker->id);
    else if (s->down)
        log_debug("backend up for worker pnode=%s worker=%d", s->name, s->worker->id);
    s->down = 0;
    s->backoff_ms = 0;
}

/* The reply to the AUTH or HELLO 3 that backend_connect sent ahead of any
 * request: it belongs to no request, so it is dropped here. A refusal makes
 * the connection useless; returns -1 once it is closed. */
static int backend_auth_reply(backend_t *b, struct evbuffer *in)
{
    server_t *s = b->server;
    size_t len = b->scan.pos;
    char type = b->scan.type, reason[128];

    resp_scan_init(&b->scan);
    if (type != '-') {
        evbuffer_drain(in, len);
        if (--b->authing == 0)
            backend_up(b);
        return 0;
    }
    /* The error line without '-' and CRLF. */
    int n = len > 3 ? (int)(len - 3) : 0;
    const char *line = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    const char *what = b->resp3 && b->authing == 1 ? "HELLO 3" : "AUTH";
    snprintf(reason, sizeof(reason), "%s failed: %.*s", what, n, line + 1);
    log_warn("backend %s refused pnode=%s worker=%d reason=\"%s\"", what, s->name, s->worker->id,
             reason);
    backend_close(b);
    server_mark_down(s, reason);
    backend_fail_all(b, reason);
    return -1;
}

/* A reply over client-output-limit-hard is not kept: its bytes are
 * dropped as they arrive and its request gets an error, so memory stays
 * bounded and the connection stays in step. Returns 1 if it took them. */
static int backend_drop_big(backend_t *b, struct evbuffer *in, int rc)
{
    uint64_t hard = CONFIG_GET(b->server->worker->cfg->client_output_limit_hard);
    request_t *r = TAILQ_FIRST(&b->inflight);
    if (r == NULL || (b->dropped == 0 && (hard == 0 || b->scan.pos <= hard)))
        return 0;
    evbuffer_drain(in, b->scan.pos);
    b->dropped += b->scan.pos;
    b->scan.pos = 0;
    if (rc == RESP_AGAIN)
        return 1;
    unsigned long long total = b->dropped;
    b->dropped = 0;
    TAILQ_REMOVE(&b->inflight, r, bq);
    b->ninflight--;
    STAT_DEC(b->server->st->inflight);
    resp_scan_init(&b->scan);
    request_error(r, "ERR reply of %llu bytes exceeds client-output-limit-hard (%llu bytes)",
                  total, (unsigned long long)hard);
    return 1;
}

static void backend_scan_replies(backend_t *b)
{
    struct evbuffer *in = b->conn->in;
    struct evbuffer_iovec v[8];
    struct evbuffer_ptr ptr;
    uint64_t now = 0;

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
        if (rc != RESP_ERROR && !b->authing && backend_drop_big(b, in, rc))
            continue;
        if (rc == RESP_AGAIN)
            continue;
        if (b->authing && rc == RESP_OK) {
            if (backend_auth_reply(b, in) < 0)
                return;
            continue;
        }
        request_t *r = TAILQ_FIRST(&b->inflight);
        if (!b->answered && rc == RESP_OK)
            backend_up(b);
        if (rc == RESP_ERROR || r == NULL) {
            const char *why = rc == RESP_ERROR ? b->scan.err : "reply without a request";
            log_warn("backend protocol error pnode=%s reason=\"%s\"", b->server->name, why);
            backend_close(b);
            backend_fail_all(b, "protocol error from the server");
            return;
        }
        if (r->skip > 0) {
            r->skip--;
            evbuffer_drain(in, b->scan.pos);
            resp_scan_init(&b->scan);
            continue;
        }
        TAILQ_REMOVE(&b->inflight, r, bq);
        b->ninflight--;
        if (now == 0)
            now = backend_now_us();
        STAT_DEC(b->server->st->inflight);
        stats_pnode_latency(b->server->st, now > r->sent_us ? now - r->sent_us : 0);
        size_t len = b->scan.pos;
        if (b->scan.type == '-') {
            STAT_INC(b->server->worker->stats.err_pnode);
            request_failed(r);
        }
        resp_scan_init(&b->scan);
        request_reply(r, in, len);
    }
}

static void backend_read_cb(conn_t *conn, void *arg)
{
    backend_t *b = arg;
    server_t *s = b->server; /* a dedicated b may be gone after the replies */
    backend_scan_replies(b);
    /* Last: a retiring server is freed here once drained. */
    worker_server_drained(s->worker, s);
}

static void backend_event_cb(conn_t *conn, conn_event_t what, int err, void *arg)
{
    backend_t *b = arg;
    server_t *s = b->server;
    char reason[128];

    if (what == CONN_CONNECTED) {
        b->state = BACKEND_CONNECTED;
        /* A client's blocking command may wait as long as it asked. */
        if (!b->dedicated)
            conn_set_read_timeout(conn, CONFIG_GET(s->worker->cfg->server_timeout_ms));
        return;
    }
    if (what == CONN_TIMEOUT) {
        /* Only time with requests outstanding counts. */
        if (b->state == BACKEND_CONNECTED && b->ninflight == 0)
            return;
        if (b->state == BACKEND_CONNECTING)
            snprintf(reason, sizeof(reason), "connect timed out after %d ms",
                     CONFIG_GET(s->worker->cfg->connect_timeout_ms));
        else
            snprintf(reason, sizeof(reason), "no reply within %d ms",
                     CONFIG_GET(s->worker->cfg->server_timeout_ms));
    } else if (what == CONN_EOF) {
        snprintf(reason, sizeof(reason), "connection closed by the server");
    } else {
        snprintf(reason, sizeof(reason), "%s", conn_strerror(conn, err));
    }
    /* Closed on the requests it took without a word: down, with backoff,
     * rather than a new connection per request. An idle connection the
     * server closed is only reopened. (A dedicated one's blocking command
     * gets no word until it is served: no sign of a bad pnode.) */
    int failed = b->state == BACKEND_CONNECTING ||
                 (!b->dedicated && !b->answered && b->ninflight > 0);
    backend_close(b);
    if (failed)
        server_mark_down(s, reason);
    else
        log_warn("backend connection lost pnode=%s worker=%d reason=\"%s\"", s->name, s->worker->id, reason);
    backend_fail_all(b, reason);
    worker_server_drained(s->worker, s);
}

static const conn_ops_t backend_ops = { backend_read_cb, NULL, backend_event_cb };

conn_t *server_open(server_t *s, const conn_ops_t *ops, void *arg, int resp3, int *owed)
{
    int err = 0;
    conn_t *conn;

    STAT_INC(s->st->connects);
    int ms = CONFIG_GET(s->worker->cfg->connect_timeout_ms);
    if (s->tls_host != NULL) {
        char why[128];
        SSL *ssl = tls_connect_ssl(s->worker->tls, s->tls_host, why, sizeof(why));
        if (ssl == NULL) {
            server_mark_down(s, why);
            return NULL;
        }
        conn = conn_connect_tls(&s->worker->loop, (struct sockaddr *)&s->addr, s->addrlen, ms,
                                ssl, ops, arg, &err);
    } else {
        conn = conn_connect(&s->worker->loop, (struct sockaddr *)&s->addr, s->addrlen, ms, ops,
                            arg, &err);
    }
    if (conn == NULL) {
        server_mark_down(s, strerror(err));
        return NULL;
    }
    *owed = 0;
    const char *pw = s->worker->cfg->backend_password;
    if (auth_enabled(pw)) {
        size_t n = strlen(pw);
        evbuffer_add_printf(conn->out, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n", n);
        evbuffer_add(conn->out, pw, n);
        evbuffer_add(conn->out, "\r\n", 2);
        (*owed)++;
    }
    if (resp3) {
        static const char hello[] = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";
        evbuffer_add(conn->out, hello, sizeof(hello) - 1);
        (*owed)++;
    }
    return conn;
}

static int backend_connect(backend_t *b)
{
    resp_scan_init(&b->scan);
    b->conn = server_open(b->server, &backend_ops, b, b->resp3, &b->authing);
    if (b->conn == NULL)
        return -1;
    b->state = BACKEND_CONNECTING;
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

/* r, the next len bytes of src, goes out on b and awaits its reply. */
static inline void backend_enqueue(backend_t *b, request_t *r, struct evbuffer *src, size_t len)
{
    TAILQ_INSERT_TAIL(&b->inflight, r, bq);
    b->ninflight++;
    STAT_INC(b->server->st->inflight);
    r->sent_us = backend_now_us();
    evbuffer_remove_buffer(src, b->conn->out, len);
    conn_flush_soon(b->conn);
}

void server_send(server_t *s, request_t *r, struct evbuffer *src, size_t len)
{
    backend_t *b;
    /* A client's own request on the connections of its protocol; parts of
     * merged replies speak RESP2, which the merge reads. */
    if (__builtin_expect(r->client != NULL && r->client->proto == 3, 0)) {
        b = &s->conns[s->nconns + s->next3];
        if (++s->next3 == s->nconns)
            s->next3 = 0;
    } else {
        b = &s->conns[s->next];
        if (++s->next == s->nconns)
            s->next = 0;
    }
    STAT_INC(s->st->requests);

    if (s->addrlen == 0) {
        STAT_INC(s->worker->stats.err_unavailable);
        STAT_INC(s->st->errors);
        evbuffer_drain(src, len);
        request_error(r, "ERR pnode %s unavailable: %s", s->name, s->addr_err);
        return;
    }
    if (b->state == BACKEND_IDLE) {
        if (s->down && backend_now_ms() < s->retry_at_ms) {
            STAT_INC(s->worker->stats.err_unavailable);
            STAT_INC(s->st->errors);
            evbuffer_drain(src, len);
            request_error(r, "ERR pnode %s unavailable: %s", s->name, s->reason);
            return;
        }
        if (backend_connect(b) < 0) {
            STAT_INC(s->worker->stats.err_unavailable);
            STAT_INC(s->st->errors);
            evbuffer_drain(src, len);
            request_error(r, "ERR pnode %s unavailable: %s", s->name, s->reason);
            return;
        }
    }
    /* The read timeout keeps cycling while the connection is idle: restart
     * it when a request ends the idle spell, so the server timeout counts
     * from this send. (While requests are in flight, the oldest was sent
     * before the last reply restarted it, so it never fires early.) */
    if (b->ninflight == 0 && b->state == BACKEND_CONNECTED)
        conn_set_read_timeout(b->conn, CONFIG_GET(s->worker->cfg->server_timeout_ms));
    backend_enqueue(b, r, src, len);
}

backend_t *backend_dedicated_new(server_t *s, request_t *r)
{
    const char *why = s->addrlen == 0 ? s->addr_err : s->reason;
    backend_t *b = NULL;
    if (s->addrlen != 0 && !(s->down && backend_now_ms() < s->retry_at_ms)) {
        b = calloc(1, sizeof(*b));
        if (b == NULL) {
            request_error(r, "ERR out of memory");
            return NULL;
        }
        b->server = s;
        b->dedicated = 1;
        b->resp3 = r->client != NULL && r->client->proto == 3; /* replies as the client reads */
        TAILQ_INIT(&b->inflight);
        if (backend_connect(b) == 0) {
            TAILQ_INSERT_TAIL(&s->dedicated, b, dlink);
            return b;
        }
        free(b);
    }
    STAT_INC(s->worker->stats.err_unavailable);
    STAT_INC(s->st->errors);
    request_error(r, "ERR pnode %s unavailable: %s", s->name, why);
    return NULL;
}

int backend_dedicated_alive(const backend_t *b)
{
    return b->state != BACKEND_IDLE;
}

void backend_dedicated_send(backend_t *b, request_t *r, struct evbuffer *src, size_t len)
{
    server_t *s = b->server;
    if (!backend_dedicated_alive(b)) {
        evbuffer_drain(src, len);
        if (s == NULL) {
            request_error(r, "ERR pnode unavailable: no longer in the ring");
            return;
        }
        STAT_INC(s->worker->stats.err_unavailable);
        STAT_INC(s->st->errors);
        request_error(r, "ERR pnode %s unavailable: its connection for this client was lost",
                      s->name);
        return;
    }
    STAT_INC(s->st->requests);
    backend_enqueue(b, r, src, len);
}

void backend_dedicated_free(backend_t *b)
{
    if (b->server != NULL) {
        TAILQ_REMOVE(&b->server->dedicated, b, dlink);
        backend_close(b);
        backend_fail_all(b, "its client went away");
    }
    free(b);
}
