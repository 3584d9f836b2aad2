/*
 * client.c - a client's requests are parsed in place in the bufferevent's
 * input buffer; each complete request is handed to the router with its
 * bytes still there, so they can be forwarded without a copy.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client.h"
#include "log.h"
#include "router.h"
#include "worker.h"

static void client_input(client_t *c);

static void client_maybe_close(client_t *c)
{
    if (c->closing && c->nqueue == 0 &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        client_free(c);
}

static void client_read_cb(struct bufferevent *bev, void *arg)
{
    client_t *c = arg;
    client_input(c);
    client_maybe_close(c);
}

static void client_write_cb(struct bufferevent *bev, void *arg)
{
    client_maybe_close(arg);
}

static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
    client_t *c = arg;
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && c->nqueue > 0) {
        /* Not idle: waiting for replies. */
        bufferevent_enable(bev, EV_READ);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        log_debug("client idle timeout worker=%d", c->worker->id);
    client_free(c);
}

client_t *client_new(worker_t *w, evutil_socket_t fd)
{
    client_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        free(c);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->worker = w;
    resp_parser_init(&c->parser, w->cfg->max_request_bytes);
    TAILQ_INIT(&c->queue);
    bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
    if (w->cfg->client_idle_timeout > 0) {
        struct timeval tv = { w->cfg->client_idle_timeout, 0 };
        bufferevent_set_timeouts(c->bev, &tv, NULL);
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    TAILQ_INSERT_TAIL(&w->clients, c, link);
    w->nclients++;
    return c;
}

void client_free(client_t *c)
{
    request_t *r;
    while ((r = TAILQ_FIRST(&c->queue)) != NULL) {
        TAILQ_REMOVE(&c->queue, r, cq);
        if (r->done)
            request_free(r);
        else
            r->client = NULL; /* freed when its reply arrives */
    }
    TAILQ_REMOVE(&c->worker->clients, c, link);
    c->worker->nclients--;
    bufferevent_free(c->bev);
    resp_parser_free(&c->parser);
    worker_client_gone(c->worker);
    free(c);
}

int client_is_head(const client_t *c, const request_t *r)
{
    return TAILQ_FIRST(&c->queue) == r;
}

static void client_resume(client_t *c)
{
    if (c->paused && !c->closing && c->nqueue < (uint32_t)c->worker->cfg->max_pipeline) {
        c->paused = 0;
        bufferevent_enable(c->bev, EV_READ);
        /* Requests already buffered get no new read event. */
        client_input(c);
    }
}

void client_reply_head(client_t *c, request_t *r, struct evbuffer *src, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_remove_buffer(src, out, len);
    TAILQ_REMOVE(&c->queue, r, cq);
    c->nqueue--;
    request_free(r);
    client_flush(c);
}

void client_flush(client_t *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    request_t *r;
    while ((r = TAILQ_FIRST(&c->queue)) != NULL && r->done) {
        evbuffer_add_buffer(out, r->reply);
        TAILQ_REMOVE(&c->queue, r, cq);
        c->nqueue--;
        request_free(r);
    }
    client_resume(c);
}

void client_shutdown(client_t *c)
{
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
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
    struct evbuffer *in = bufferevent_get_input(c->bev);

    if (c->in_input)
        return;
    c->in_input = 1;
    worker_refresh_ring(w);
    while (!c->closing) {
        if (c->nqueue >= (uint32_t)w->cfg->max_pipeline) {
            c->paused = 1;
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        int rc = client_parse(c, in);
        if (rc == RESP_AGAIN)
            break;
        if (rc == RESP_ERROR) {
            request_t *r = request_new(w);
            log_debug("client protocol error worker=%d reason=\"%s\"", w->id, c->parser.err);
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
            TAILQ_INSERT_TAIL(&c->queue, r, cq);
            c->nqueue++;
            router_dispatch(c, r, in, total);
        }
        resp_parser_reset(&c->parser);
    }
    c->in_input = 0;
}
