/*
 * pinned.c - a client's dedicated connections, a short list (one per pnode
 * it blocked or watched on). They stay open until the client goes: a
 * connection no longer watching holds no state on its pnode, and reusing
 * it saves a connect per blocking call in a consumer's loop.
 */
#include <stdlib.h>

#include <event2/buffer.h>

#include "pinned.h"
#include "worker.h"

struct pinned {
    pinned_t *next;
    backend_t *b;
    int watching;
    int retired;    /* its pnode may still hold a WATCH: never used again */
    uint32_t vnode;
};

static uint64_t pinned_open_total;

uint64_t pinned_count(void)
{
    return __atomic_load_n(&pinned_open_total, __ATOMIC_RELAXED);
}

static void pinned_free(pinned_t *p)
{
    backend_dedicated_free(p->b);
    __atomic_sub_fetch(&pinned_open_total, 1, __ATOMIC_RELAXED);
    free(p);
}

pinned_t *pinned_find(client_t *c, const server_t *s)
{
    for (pinned_t **pp = &c->pinned; *pp != NULL; pp = &(*pp)->next) {
        pinned_t *p = *pp;
        if (p->b->server != s || p->retired)
            continue;
        /* Opened in the protocol the client spoke then: after a HELLO
         * that changed it, a new one (a WATCH keeps its own until EXEC). */
        if (!p->watching && p->b->resp3 != (c->proto == 3))
            continue;
        /* A lost one is kept while watching, so that EXEC fails. */
        if (p->watching || backend_dedicated_alive(p->b))
            return p;
        *pp = p->next;
        pinned_free(p);
        return NULL;
    }
    return NULL;
}

pinned_t *pinned_open(client_t *c, request_t *r, server_t *s)
{
    pinned_t *p = pinned_find(c, s);
    if (p != NULL)
        return p;
    int max = CONFIG_GET(c->worker->cfg->max_dedicated_connections);
    if (__atomic_fetch_add(&pinned_open_total, 1, __ATOMIC_RELAXED) >= (uint64_t)max) {
        __atomic_sub_fetch(&pinned_open_total, 1, __ATOMIC_RELAXED);
        request_error(r, "ERR max-dedicated-connections (%d) reached: blocking commands and "
                         "WATCH need a pnode connection of their own", max);
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        __atomic_sub_fetch(&pinned_open_total, 1, __ATOMIC_RELAXED);
        request_error(r, "ERR out of memory");
        return NULL;
    }
    p->b = backend_dedicated_new(s, r);
    if (p->b == NULL) {
        __atomic_sub_fetch(&pinned_open_total, 1, __ATOMIC_RELAXED);
        free(p);
        return NULL;
    }
    p->next = c->pinned;
    c->pinned = p;
    return p;
}

server_t *pinned_server(const pinned_t *p)
{
    return p->b->server;
}

void pinned_send(pinned_t *p, request_t *r, struct evbuffer *src, size_t len)
{
    backend_dedicated_send(p->b, r, src, len);
}

void pinned_set_watch(pinned_t *p, uint32_t vnode)
{
    p->watching = 1;
    p->vnode = vnode;
}

pinned_t *pinned_watching(client_t *c, uint32_t *vnode)
{
    for (pinned_t *p = c->pinned; p != NULL; p = p->next) {
        if (p->watching) {
            *vnode = p->vnode;
            return p;
        }
    }
    return NULL;
}

void pinned_end_watch(client_t *c, int unwatch)
{
    static const char req[] = "*1\r\n$7\r\nUNWATCH\r\n";
    uint32_t vnode;
    pinned_t *p = pinned_watching(c, &vnode);
    if (p == NULL)
        return;
    p->watching = 0;
    if (!unwatch || !backend_dedicated_alive(p->b))
        return;
    /* No client: its reply is dropped when it comes. */
    request_t *r = request_new(c->worker);
    if (r == NULL) {
        /* Not freed here, where its own reply may be on the stack: left
         * aside until the client goes, and a new one opened if needed. */
        p->retired = 1;
        return;
    }
    evbuffer_add(c->worker->scratch, req, sizeof(req) - 1);
    backend_dedicated_send(p->b, r, c->worker->scratch, sizeof(req) - 1);
}

void pinned_free_all(client_t *c)
{
    pinned_t *p;
    while ((p = c->pinned) != NULL) {
        c->pinned = p->next;
        pinned_free(p);
    }
}
