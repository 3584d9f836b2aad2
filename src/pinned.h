/*
 * pinned.h - a client's dedicated pnode connections: one per pnode, opened
 * by a blocking command (so that it blocks no other client) or by WATCH
 * (so that WATCH, MULTI ... EXEC share the pnode connection Redis keys the
 * watch on). While a client has one to a pnode, all its requests to that
 * pnode take it, so they stay in the order the client sent them. They are
 * closed with the client, counted (ringproxy_dedicated_connections) and
 * limited by max-dedicated-connections over the whole proxy.
 */
#ifndef RP_PINNED_H
#define RP_PINNED_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "client.h"
#include "request.h"

struct evbuffer;
typedef struct pinned pinned_t;

/* c's connection to s, opened if it has none; NULL with the error made on
 * r when over the limit or s is down. */
pinned_t *pinned_open(client_t *c, request_t *r, server_t *s);
/* c's usable connection to s, or NULL: requests then take the shared ones. */
pinned_t *pinned_find(client_t *c, const server_t *s);
server_t *pinned_server(const pinned_t *p);
/* Sends r, the next len bytes of src (moved), on p. */
void pinned_send(pinned_t *p, request_t *r, struct evbuffer *src, size_t len);

/* WATCH: p carries c's watched keys, all on vnode. */
void pinned_set_watch(pinned_t *p, uint32_t vnode);
/* The connection c's WATCH is on, or NULL; *vnode is the watched vnode. */
pinned_t *pinned_watching(client_t *c, uint32_t *vnode);
/* The WATCH is over (EXEC sent, DISCARD, UNWATCH, RESET). When the pnode
 * still holds it (unwatch), an UNWATCH is sent ahead of c's next request
 * there, its reply dropped. */
void pinned_end_watch(client_t *c, int unwatch);

/* Closes every connection of c (client_free). */
void pinned_free_all(client_t *c);
/* Dedicated connections open in the process. */
uint64_t pinned_count(void);

#endif
