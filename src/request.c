/*
 * request.c - requests come from a per-worker free list and keep their
 * reply buffer, so the steady state allocates nothing per request.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "client.h"
#include "multikey.h"
#include "request.h"
#include "stats.h"
#include "worker.h"

request_t *request_new(worker_t *w)
{
    request_t *r = w->free_requests;
    if (r != NULL) {
        w->free_requests = r->parent;
        w->nfree_requests--;
    } else {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return NULL;
        r->reply = evbuffer_new();
        if (r->reply == NULL) {
            free(r);
            return NULL;
        }
    }
    r->worker = w;
    r->client = NULL;
    r->parent = NULL;
    r->mk = NULL;
    r->part = 0;
    r->skip = 0;
    r->held = 0;
    r->klass = STATS_OTHER;
    r->failed = 0;
    r->silent = 0;
    r->done = 0;
    return r;
}

void request_free(request_t *r)
{
    worker_t *w = r->worker;
    if (r->mk != NULL) {
        multikey_free(r->mk);
        r->mk = NULL;
    }
    evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
    if (w->nfree_requests >= WORKER_MAX_FREE_REQUESTS) {
        evbuffer_free(r->reply);
        free(r);
        return;
    }
    /* The free list links through parent, unused while free. */
    r->parent = w->free_requests;
    w->free_requests = r;
    w->nfree_requests++;
}

void request_reply(request_t *r, struct evbuffer *src, size_t len)
{
    if (r->parent == NULL && r->client != NULL && client_is_head(r->client, r)) {
        client_reply_head(r->client, r, src, len);
        return;
    }
    evbuffer_remove_buffer(src, r->reply, len);
    request_done(r);
}

void request_failed(request_t *r)
{
    request_t *top = r->parent != NULL ? r->parent : r;
    if (!top->failed) {
        top->failed = 1;
        STAT_INC(r->worker->stats.req_err[top->klass]);
    }
}

void request_error(request_t *r, const char *fmt, ...)
{
    va_list ap;
    request_failed(r);
    evbuffer_add(r->reply, "-", 1);
    va_start(ap, fmt);
    evbuffer_add_vprintf(r->reply, fmt, ap);
    va_end(ap);
    evbuffer_add(r->reply, "\r\n", 2);
    request_done(r);
}

void request_done(request_t *r)
{
    request_t *top = r->parent != NULL ? r->parent : r;
    r->done = 1;
    if (top->client != NULL)
        client_hold(top->client, top, evbuffer_get_length(r->reply));
    if (r->parent != NULL) {
        multikey_part_done(r);
    } else if (r->client == NULL) {
        request_free(r);
    } else {
        client_flush(r->client);
    }
}
