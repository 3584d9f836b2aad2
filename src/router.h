/*
 * router.h - where a request goes: the command table says what it is, the
 * key (or the part of it that routing uses) says which vnode, the ring
 * says which pnode and whether the vnode is read-only.
 */
#ifndef RP_ROUTER_H
#define RP_ROUTER_H

#include <stddef.h>

#include "backend.h"
#include "client.h"
#include "config.h"
#include "request.h"
#include "ring.h"

struct evbuffer;
struct worker;

/* The bytes of key that are hashed under cfg's hash-tags and
 * dirname-routing (ring_routing_key says the rule). */
void router_key(const config_t *cfg, const char *key, size_t len, const char **rk, size_t *rklen);
/* Looks key up in w's current ring. */
void router_lookup(struct worker *w, const char *key, size_t len, ring_node_t *out);
/* "-ERR command 'X' is not supported by ringproxy" plus why (may be ""). */
void router_unsupported(request_t *r, const char *name, size_t len, const char *why);
/* At most max bytes of s into out (cap bytes), CR and LF as spaces. */
void router_printable(char *out, size_t cap, const char *s, size_t len, size_t max);
/* Redis's "-ERR unknown command 'X', with args beginning with: ...". */
void router_unknown(request_t *r, const char *base, const resp_arg_t *args, size_t argc);
/* Sends r (the next len bytes of src, moved) to s: on c's dedicated
 * connection to s if it has one (pinned.h), so that its requests there
 * keep their order, else on a shared one. */
void router_send(client_t *c, server_t *s, request_t *r, struct evbuffer *src, size_t len);
/* As router_send, for an inline request: sent as a multibulk. */
void router_send_inline(client_t *c, server_t *s, request_t *r, const char *base,
                        const resp_arg_t *args, size_t argc);
/* Handles one complete request of total bytes at the head of in; consumes
 * them whatever happens. r is already queued on c. */
void router_dispatch(client_t *c, request_t *r, struct evbuffer *in, size_t total);

#endif
