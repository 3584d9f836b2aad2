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

#include "conn.h"
#include "stats.h"

#define CONN_READ_SIZE 16384

static void conn_flush_cb(evutil_socket_t fd, short what, void *arg);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);

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
    event_del(&c->wev);
    close(c->fd);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    free(c);
}

void conn_set_read_timeout(conn_t *c, int ms)
{
    c->has_read_timeout = ms > 0;
    c->read_timeout.tv_sec = ms / 1000;
    c->read_timeout.tv_usec = (ms % 1000) * 1000;
    if (c->reading)
        event_add(&c->rev, c->has_read_timeout ? &c->read_timeout : NULL);
}

void conn_read_enable(conn_t *c, int on)
{
    if (on && !c->reading)
        event_add(&c->rev, c->has_read_timeout ? &c->read_timeout : NULL);
    else if (!on && c->reading)
        event_del(&c->rev);
    c->reading = on;
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
        if (!c->connecting)
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
