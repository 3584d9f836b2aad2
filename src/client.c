/*
 * client.c - a client's requests are parsed in place in the connection's
 * input buffer; each complete request is handed to the router with its
 * bytes still there, so they can be forwarded without a copy.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "auth.h"
#include "client.h"
#include "clientcmd.h"
#include "log.h"
#include "pinned.h"
#include "pubsub.h"
#include "router.h"
#include "txn.h"
#include "worker.h"

static void client_input(client_t *c);
static void client_resume(client_t *c);

/* What the proxy holds for c's replies: the unsent output and the replies
 * queued behind one still awaited. */
static size_t client_pending(const client_t *c)
{
    return conn_pending(c->conn) + c->held;
}

/* Reading stops at the lower output limit, so a client that reads slowly
 * is held back instead of running into the limit; one that does not read
 * at all passes it with the replies still in flight, or stays above the
 * soft limit too long. */
static int client_full(const client_t *c)
{
    const config_t *cfg = c->worker->cfg;
    uint64_t hard = CONFIG_GET(cfg->client_output_limit_hard);
    uint64_t soft = CONFIG_GET(cfg->client_output_limit_soft.bytes);
    uint64_t pause = soft > 0 && (hard == 0 || soft < hard) ? soft : hard;
    return c->nqueue >= (uint32_t)CONFIG_GET(cfg->max_pipeline) ||
           (pause > 0 && client_pending(c) >= pause);
}

static void client_kill(client_t *c, int soft, size_t pending)
{
    uint64_t *closes = soft ? &c->worker->stats.output_limit_soft
                            : &c->worker->stats.output_limit_hard;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char addr[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername(c->conn->fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
            evutil_inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
            port = ntohs(sin->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
            evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
            port = ntohs(sin6->sin6_port);
        }
    }
    /* Counted before the log line, so whoever sees the line sees the count. */
    STAT_INC(*closes);
    log_info("client over output limit, closed client=%s:%d limit=%s pending=%zu worker=%d",
             addr, port, soft ? "soft" : "hard", pending, c->worker->id);
    c->killed = 1;
    c->closing = 1;
    /* Its replies are dropped now; it is freed from the event loop, after
     * the reply handlers on the stack have returned. */
    conn_abort(c->conn);
}

static void client_soft_cb(evutil_socket_t fd, short what, void *arg)
{
    client_t *c = arg;
    uint64_t soft = CONFIG_GET(c->worker->cfg->client_output_limit_soft.bytes);
    size_t n = client_pending(c);
    if (!c->killed && soft > 0 && n > soft)
        client_kill(c, 1, n);
}

/* Closes c if its pending output is over the hard limit, or times how long
 * it stays over the soft one. */
static void client_check_output(client_t *c)
{
    const config_t *cfg = c->worker->cfg;
    uint64_t hard = CONFIG_GET(cfg->client_output_limit_hard);
    uint64_t soft = CONFIG_GET(cfg->client_output_limit_soft.bytes);
    size_t n = client_pending(c);

    if (c->killed)
        return;
    if (hard > 0 && n > hard) {
        client_kill(c, 0, n);
        return;
    }
    if (soft == 0 || n <= soft) {
        if (c->soft_ev != NULL)
            evtimer_del(c->soft_ev);
        return;
    }
    if (c->soft_ev != NULL && evtimer_pending(c->soft_ev, NULL))
        return;
    /* Only clients that pass the soft limit pay for a timer. */
    if (c->soft_ev == NULL)
        c->soft_ev = evtimer_new(c->worker->base, client_soft_cb, c);
    struct timeval tv = { CONFIG_GET(cfg->client_output_limit_soft.seconds), 0 };
    if (c->soft_ev == NULL || evtimer_add(c->soft_ev, &tv) < 0)
        client_kill(c, 1, n);
}

void client_hold(client_t *c, request_t *r, size_t n)
{
    r->held += n;
    c->held += n;
    client_check_output(c);
}

int client_maybe_close(client_t *c)
{
    if (c->closing && c->nqueue == 0 && conn_pending(c->conn) == 0) {
        client_free(c);
        return 1;
    }
    return 0;
}

static void client_read_cb(conn_t *conn, void *arg)
{
    client_input(arg);
}

static void client_drained_cb(conn_t *conn, void *arg)
{
    if (client_maybe_close(arg))
        return;
    client_check_output(arg);
    client_resume(arg);
}

static void client_event_cb(conn_t *conn, conn_event_t what, int err, void *arg)
{
    client_t *c = arg;
    if (what == CONN_TIMEOUT && c->nqueue > 0)
        return; /* not idle: waiting for replies */
    if (conn->handshaking) {
        STAT_INC(c->worker->stats.tls_handshake_failed);
        log_debug("client TLS handshake failed worker=%d reason=\"%s\"", c->worker->id,
                  what == CONN_TIMEOUT ? "timed out" : what == CONN_EOF ? "closed by the client"
                                                                       : conn_strerror(conn, err));
    } else if (what == CONN_TIMEOUT) {
        log_debug("client idle timeout worker=%d", c->worker->id);
    }
    client_free(c);
}

static const conn_ops_t client_ops = { client_read_cb, client_drained_cb, client_event_cb };

client_t *client_new(worker_t *w, evutil_socket_t fd, int tls)
{
    client_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (tls) {
        SSL *ssl = tls_accept_ssl(w->tls);
        /* The handshake gets no longer than an idle client would. */
        int ms = CONFIG_GET(w->cfg->tls_handshake_timeout_ms);
        int idle = CONFIG_GET(w->cfg->client_idle_timeout);
        if (idle > 0 && idle < ms / 1000)
            ms = idle * 1000;
        c->conn = ssl != NULL ? conn_new_tls(&w->loop, fd, ssl, ms, &client_ops, c) : NULL;
    } else {
        c->conn = conn_new(&w->loop, fd, &client_ops, c);
    }
    if (c->conn == NULL) {
        free(c);
        return NULL;
    }
    c->worker = w;
    c->authed = !auth_enabled(w->cfg->requirepass);
    c->proto = 2;
    clientcmd_init(c);
    resp_parser_init(&c->parser, CONFIG_GET(w->cfg->max_request_bytes));
    TAILQ_INIT(&c->queue);
    if (CONFIG_GET(w->cfg->client_idle_timeout) > 0)
        conn_set_read_timeout(c->conn, CONFIG_GET(w->cfg->client_idle_timeout) * 1000);
    TAILQ_INSERT_TAIL(&w->clients, c, link);
    STAT_INC(w->nclients);
    return c;
}

void client_free(client_t *c)
{
    request_t *r;
    pubsub_reset(c, 0);
    while ((r = TAILQ_FIRST(&c->queue)) != NULL) {
        TAILQ_REMOVE(&c->queue, r, cq);
        if (r->done)
            request_free(r);
        else
            r->client = NULL; /* freed when its reply arrives */
    }
    if (c->soft_ev != NULL)
        event_free(c->soft_ev);
    TAILQ_REMOVE(&c->worker->clients, c, link);
    __atomic_store_n(&c->worker->nclients, c->worker->nclients - 1, __ATOMIC_RELAXED);
    conn_free(c->conn);
    resp_parser_free(&c->parser);
    clientcmd_free(c);
    txn_reset(c);
    pinned_free_all(c);
    worker_client_gone(c->worker);
    free(c);
}

int client_is_head(const client_t *c, const request_t *r)
{
    return TAILQ_FIRST(&c->queue) == r;
}

static void client_resume(client_t *c)
{
    if (c->paused && !c->closing && !client_full(c)) {
        c->paused = 0;
        conn_read_enable(c->conn, 1);
        /* Requests already buffered get no new read event. */
        client_input(c);
    }
}

void client_reply_head(client_t *c, request_t *r, struct evbuffer *src, size_t len)
{
    if (c->killed || r->silent)
        evbuffer_drain(src, len);
    else
        evbuffer_remove_buffer(src, c->conn->out, len);
    TAILQ_REMOVE(&c->queue, r, cq);
    c->nqueue--;
    request_free(r);
    client_flush(c);
}

void client_flush(client_t *c)
{
    request_t *r;
    if (c->killed)
        return; /* replies held are freed with c */
    while ((r = TAILQ_FIRST(&c->queue)) != NULL && r->done) {
        if (r->silent)
            evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
        else
            evbuffer_add_buffer(c->conn->out, r->reply);
        c->held -= r->held;
        TAILQ_REMOVE(&c->queue, r, cq);
        c->nqueue--;
        request_free(r);
    }
    if (evbuffer_get_length(c->conn->out) > 0)
        conn_flush_soon(c->conn);
    client_check_output(c);
    client_resume(c);
}

void client_shutdown(client_t *c)
{
    c->closing = 1;
    conn_read_enable(c->conn, 0);
}

/* Feeds the parser the buffered bytes it has not seen yet. */
static int client_parse(client_t *c, struct evbuffer *in)
{
    struct evbuffer_iovec v[8];
    struct evbuffer_ptr ptr;
    resp_parser_t *p = &c->parser;

    for (;;) {
        if (evbuffer_get_length(in) <= p->pos)
            return RESP_AGAIN;
        if (evbuffer_ptr_set(in, &ptr, p->pos, EVBUFFER_PTR_SET) < 0)
            return RESP_AGAIN;
        int n = evbuffer_peek(in, -1, &ptr, v, 8);
        if (n > 8)
            n = 8;
        for (int i = 0; i < n; i++) {
            size_t used;
            int rc = resp_parse(p, v[i].iov_base, v[i].iov_len, &used);
            if (rc != RESP_AGAIN)
                return rc;
        }
    }
}

static void client_input(client_t *c)
{
    worker_t *w = c->worker;
    struct evbuffer *in = c->conn->in;

    if (c->in_input)
        return;
    c->in_input = 1;
    worker_refresh_ring(w);
    while (!c->closing) {
        if (client_full(c)) {
            c->paused = 1;
            conn_read_enable(c->conn, 0);
            break;
        }
        int rc = client_parse(c, in);
        if (rc == RESP_AGAIN)
            break;
        if (rc == RESP_ERROR) {
            request_t *r = request_new(w);
            log_debug("client protocol error worker=%d reason=\"%s\"", w->id, c->parser.err);
            STAT_INC(w->stats.err_protocol);
            client_shutdown(c);
            if (r == NULL)
                break;
            r->client = c;
            TAILQ_INSERT_TAIL(&c->queue, r, cq);
            c->nqueue++;
            request_error(r, "ERR %s", c->parser.err);
            break;
        }
        size_t total = c->parser.pos;
        if (c->parser.nargs == 0) {
            evbuffer_drain(in, total);
        } else {
            request_t *r = request_new(w);
            if (r == NULL) {
                client_shutdown(c);
                break;
            }
            r->client = c;
            if (c->reply_off | c->reply_skip) {
                r->silent = 1;
                c->reply_skip = 0;
            }
            TAILQ_INSERT_TAIL(&c->queue, r, cq);
            c->nqueue++;
            router_dispatch(c, r, in, total);
        }
        resp_parser_reset(&c->parser);
    }
    c->in_input = 0;
}
