/*
 * conn.c - see conn.h. The flusher is an event activated by hand; active
 * events run after those already active in the same pass, so it writes
 * once everything this pass produced has been queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "stats.h"
#include "tls.h"

#define CONN_READ_SIZE 16384

static void conn_flush_cb(evutil_socket_t fd, short what, void *arg);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_tls_push(conn_t *c);

int conn_loop_init(conn_loop_t *l, struct event_base *base)
{
    l->base = base;
    TAILQ_INIT(&l->dirty);
    l->flush_ev = event_new(base, -1, 0, conn_flush_cb, l);
    return l->flush_ev == NULL ? -1 : 0;
}

void conn_loop_free(conn_loop_t *l)
{
    if (l->flush_ev != NULL)
        event_free(l->flush_ev);
    l->flush_ev = NULL;
}

static conn_t *conn_alloc(conn_loop_t *l, evutil_socket_t fd, const conn_ops_t *ops, void *arg)
{
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    if (c->in == NULL || c->out == NULL) {
        if (c->in != NULL)
            evbuffer_free(c->in);
        if (c->out != NULL)
            evbuffer_free(c->out);
        free(c);
        return NULL;
    }
    c->loop = l;
    c->fd = fd;
    c->ops = ops;
    c->arg = arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    event_assign(&c->rev, l->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    event_assign(&c->wev, l->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    return c;
}

conn_t *conn_new(conn_loop_t *l, evutil_socket_t fd, const conn_ops_t *ops, void *arg)
{
    if (evutil_make_socket_nonblocking(fd) < 0)
        return NULL;
    conn_t *c = conn_alloc(l, fd, ops, arg);
    if (c != NULL)
        conn_read_enable(c, 1);
    return c;
}

conn_t *conn_connect(conn_loop_t *l, const struct sockaddr *sa, int salen, int timeout_ms,
                     const conn_ops_t *ops, void *arg, int *err)
{
    evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    if (connect(fd, sa, (socklen_t)salen) < 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return NULL;
    }
    conn_t *c = conn_alloc(l, fd, ops, arg);
    if (c == NULL) {
        *err = ENOMEM;
        close(fd);
        return NULL;
    }
    c->connecting = 1;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    event_add(&c->wev, &tv);
    c->writing = 1;
    return c;
}

void conn_free(conn_t *c)
{
    if (c->dirty)
        TAILQ_REMOVE(&c->loop->dirty, c, flink);
    event_del(&c->rev);
    if (c->bev != NULL) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        bufferevent_free(c->bev);
        SSL_free(ssl);
        if (c->fd >= 0)
            close(c->fd);
        evbuffer_free(c->out);
        free(c->tls_err);
        free(c);
        return;
    }
    event_del(&c->wev);
    close(c->fd);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    free(c);
}

const char *conn_strerror(const conn_t *c, int err)
{
    if (c->tls_err != NULL)
        return c->tls_err;
    return err != 0 ? strerror(err) : "connection error";
}

void conn_set_read_timeout(conn_t *c, int ms)
{
    c->has_read_timeout = ms > 0;
    c->read_timeout.tv_sec = ms / 1000;
    c->read_timeout.tv_usec = (ms % 1000) * 1000;
    if (c->bev != NULL) {
        if (!c->handshaking)
            bufferevent_set_timeouts(c->bev, c->has_read_timeout ? &c->read_timeout : NULL, NULL);
    } else if (c->reading) {
        event_add(&c->rev, c->has_read_timeout ? &c->read_timeout : NULL);
    }
}

void conn_read_enable(conn_t *c, int on)
{
    if (c->bev != NULL) {
        if (on)
            bufferevent_enable(c->bev, EV_READ);
        else
            bufferevent_disable(c->bev, EV_READ);
    } else if (on && !c->reading) {
        event_add(&c->rev, c->has_read_timeout ? &c->read_timeout : NULL);
    } else if (!on && c->reading) {
        event_del(&c->rev);
    }
    c->reading = on;
}

size_t conn_pending(const conn_t *c)
{
    size_t n = evbuffer_get_length(c->out);
    return c->bev != NULL ? n + evbuffer_get_length(bufferevent_get_output(c->bev)) : n;
}

void conn_flush_soon(conn_t *c)
{
    if (c->dirty || c->writing || c->aborted)
        return;
    if (TAILQ_EMPTY(&c->loop->dirty))
        event_active(c->loop->flush_ev, EV_TIMEOUT, 0);
    c->dirty = 1;
    TAILQ_INSERT_TAIL(&c->loop->dirty, c, flink);
}

void conn_abort(conn_t *c)
{
    conn_read_enable(c, 0);
    if (c->writing) {
        event_del(&c->wev);
        c->writing = 0;
    }
    if (c->dirty) {
        TAILQ_REMOVE(&c->loop->dirty, c, flink);
        c->dirty = 0;
    }
    if (c->bev != NULL) {
        struct evbuffer *sending = bufferevent_get_output(c->bev);
        bufferevent_disable(c->bev, EV_WRITE);
        evbuffer_drain(sending, evbuffer_get_length(sending));
    }
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
    c->aborted = 1;
    event_active(&c->rev, EV_READ, 0);
}

/* Writes what it can; returns 0, or -1 after reporting an error (c may be
 * gone then). Arms or disarms the write event as the socket fills. */
static int conn_write(conn_t *c)
{
    while (evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);
        if (n < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
                break;
            c->ops->event(c, CONN_ERROR, e, c->arg);
            return -1;
        }
        STAT_ADD(c->loop->bytes_out, (uint64_t)n);
    }
    if (evbuffer_get_length(c->out) > 0) {
        if (!c->writing) {
            event_add(&c->wev, NULL);
            c->writing = 1;
        }
        return 0;
    }
    if (c->writing) {
        event_del(&c->wev);
        c->writing = 0;
    }
    if (c->ops->drained != NULL)
        c->ops->drained(c, c->arg);
    return 0;
}

static void conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_loop_t *l = arg;
    conn_t *c;
    while ((c = TAILQ_FIRST(&l->dirty)) != NULL) {
        TAILQ_REMOVE(&l->dirty, c, flink);
        c->dirty = 0;
        if (c->bev != NULL)
            conn_tls_push(c);
        else if (!c->connecting)
            conn_write(c);
    }
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        c->connecting = 0;
        event_del(&c->wev);
        c->writing = 0;
        if (what & EV_TIMEOUT) {
            c->ops->event(c, CONN_TIMEOUT, ETIMEDOUT, c->arg);
            return;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0) {
            c->ops->event(c, CONN_ERROR, err, c->arg);
            return;
        }
        conn_read_enable(c, 1);
        /* Output queued while connecting goes now. */
        if (evbuffer_get_length(c->out) > 0 && conn_write(c) < 0)
            return;
        c->ops->event(c, CONN_CONNECTED, 0, c->arg);
        return;
    }
    conn_write(c);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    char buf[CONN_READ_SIZE];

    if (c->aborted) {
        c->ops->event(c, CONN_ERROR, ECONNABORTED, c->arg);
        return;
    }
    if (what & EV_TIMEOUT) {
        c->ops->event(c, CONN_TIMEOUT, ETIMEDOUT, c->arg);
        return;
    }
    /* Reading into the stack and appending copies a few bytes but fills
     * the buffer's existing chains instead of allocating one per read. */
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        int e = n < 0 ? errno : 0;
        if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == EINTR))
            return;
        c->ops->event(c, n == 0 ? CONN_EOF : CONN_ERROR, e, c->arg);
        return;
    }
    if (evbuffer_add(c->in, buf, (size_t)n) < 0) {
        c->ops->event(c, CONN_ERROR, ENOMEM, c->arg);
        return;
    }
    STAT_ADD(c->loop->bytes_in, (uint64_t)n);
    c->ops->read(c, c->arg);
}

/* TLS conns: the bufferevent's callbacks mapped onto the conn's ops. */

static void conn_tls_read_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    c->ops->read(c, c->arg);
}

/* bufferevent_openssl makes one TLS record, and one write, per buffer
 * chain, and a pipeline's replies are a chain each: they go to OpenSSL in
 * pieces of up to a record (16 KB) made contiguous first, so a pipeline's
 * replies leave in one record instead of a record and a syscall each. */
#define CONN_TLS_RECORD 16384

static void conn_tls_push(conn_t *c)
{
    struct evbuffer *sending = bufferevent_get_output(c->bev);
    size_t len;
    while ((len = evbuffer_get_length(c->out)) > 0) {
        size_t n = len < CONN_TLS_RECORD ? len : CONN_TLS_RECORD;
        if (evbuffer_get_contiguous_space(c->out) < n && evbuffer_pullup(c->out, (ev_ssize_t)n) == NULL)
            n = evbuffer_get_contiguous_space(c->out);
        if (evbuffer_remove_buffer(c->out, sending, n) < 0)
            break;
        STAT_ADD(c->loop->bytes_out, (uint64_t)n);
    }
}

static void conn_tls_write_cb(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;
    if (c->ops->drained != NULL && !c->aborted && evbuffer_get_length(c->out) == 0)
        c->ops->drained(c, c->arg);
}

static void conn_tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
    conn_t *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        /* The handshake had its own timeout; now only reads time. */
        c->handshaking = 0;
        bufferevent_set_timeouts(bev, c->has_read_timeout ? &c->read_timeout : NULL, NULL);
        if (c->connecting) {
            c->connecting = 0;
            c->reading = 1;
            bufferevent_enable(bev, EV_READ);
            conn_tls_push(c); /* e.g. the AUTH queued on connect */
            c->ops->event(c, CONN_CONNECTED, 0, c->arg);
        }
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        /* A timeout stops reading; plain conns keep going, so do these. */
        if (c->reading && !c->handshaking)
            bufferevent_enable(bev, EV_READ);
        c->ops->event(c, CONN_TIMEOUT, ETIMEDOUT, c->arg);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        c->ops->event(c, CONN_EOF, 0, c->arg);
        return;
    }
    /* A TLS reason when there is one; else the socket's errno, which
     * conn_strerror gives. */
    int e = EVUTIL_SOCKET_ERROR();
    unsigned long tls_e = bufferevent_get_openssl_error(bev);
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (tls_e != 0 || SSL_get_verify_result(ssl) != X509_V_OK || (c->connecting && e == 0)) {
        char buf[256];
        tls_error_string(ssl, tls_e, buf, sizeof(buf));
        while (bufferevent_get_openssl_error(bev) != 0)
            ;
        free(c->tls_err);
        c->tls_err = strdup(buf);
    }
    c->ops->event(c, CONN_ERROR, e, c->arg);
}

static void conn_count_in(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    conn_loop_t *l = arg;
    STAT_ADD(l->bytes_in, (uint64_t)info->n_added);
}

static conn_t *conn_tls_alloc(conn_loop_t *l, evutil_socket_t fd, SSL *ssl, int connecting,
                              const conn_ops_t *ops, void *arg)
{
    /* Without BEV_OPT_CLOSE_ON_FREE: the socket is the caller's until the
     * conn exists, as for plain conns, and conn_free closes it. */
    conn_t *c = calloc(1, sizeof(*c));
    if (c != NULL)
        c->out = evbuffer_new();
    if (c == NULL || c->out == NULL) {
        free(c);
        SSL_free(ssl);
        return NULL;
    }
    c->bev = bufferevent_openssl_socket_new(l->base, fd, ssl,
                                            connecting ? BUFFEREVENT_SSL_CONNECTING
                                                       : BUFFEREVENT_SSL_ACCEPTING, 0);
    if (c->bev == NULL || evbuffer_add_cb(bufferevent_get_input(c->bev), conn_count_in, l) == NULL) {
        if (c->bev != NULL)
            bufferevent_free(c->bev);
        SSL_free(ssl);
        evbuffer_free(c->out);
        free(c);
        return NULL;
    }
    /* Redis and most clients close without a TLS close_notify: that is an
     * end of stream, not an attack. */
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    c->loop = l;
    c->fd = fd;
    c->ops = ops;
    c->arg = arg;
    c->handshaking = 1;
    c->in = bufferevent_get_input(c->bev);
    /* Only conn_abort activates it, to report from the event loop. */
    event_assign(&c->rev, l->base, -1, 0, conn_read_cb, c);
    bufferevent_setcb(c->bev, conn_tls_read_cb, conn_tls_write_cb, conn_tls_event_cb, c);
    return c;
}

conn_t *conn_new_tls(conn_loop_t *l, evutil_socket_t fd, SSL *ssl, int handshake_ms,
                     const conn_ops_t *ops, void *arg)
{
    if (evutil_make_socket_nonblocking(fd) < 0) {
        SSL_free(ssl);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn_t *c = conn_tls_alloc(l, fd, ssl, 0, ops, arg);
    if (c == NULL)
        return NULL;
    struct timeval tv = { handshake_ms / 1000, (handshake_ms % 1000) * 1000 };
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    conn_read_enable(c, 1);
    return c;
}

conn_t *conn_connect_tls(conn_loop_t *l, const struct sockaddr *sa, int salen, int timeout_ms,
                         SSL *ssl, const conn_ops_t *ops, void *arg, int *err)
{
    conn_t *c = conn_tls_alloc(l, -1, ssl, 1, ops, arg);
    if (c == NULL) {
        *err = ENOMEM;
        return NULL;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    c->connecting = 1;
    if (bufferevent_socket_connect(c->bev, sa, salen) < 0) {
        *err = errno != 0 ? errno : ECONNREFUSED;
        conn_free(c);
        return NULL;
    }
    c->fd = bufferevent_getfd(c->bev);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return c;
}
