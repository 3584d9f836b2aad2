/*
 * multikey.h - MGET, MSET, DEL, UNLINK, EXISTS and TOUCH over keys on
 * several pnodes: one part per pnode, built from the request's own key
 * (and value) slices, and the parts' replies merged in key order.
 * MSET across pnodes is not atomic: each pnode applies its part alone.
 * A write that touches any read-only vnode is refused whole, before any
 * part is sent. The same parts carry a request the proxy sends to every
 * pnode (INFO), merged by the caller's function.
 */
#ifndef RP_MULTIKEY_H
#define RP_MULTIKEY_H

#include <stddef.h>

#include "client.h"
#include "command.h"
#include "request.h"
#include "resp.h"

struct evbuffer;
struct multikey;

void multikey_dispatch(client_t *c, request_t *r, const command_t *cmd, const char *base,
                       const resp_arg_t *args, size_t argc, struct evbuffer *in, size_t total);
struct worker;
/* Builds r's reply from parts[p]->reply, the reply of pnode p. */
typedef void (*multikey_merge_fn)(request_t *r, request_t *const *parts, size_t nparts,
                                  void *arg);
/* Sends the len bytes of req (one request) to every pnode of w's ring, one
 * part each, and merges with merge; arg is freed with arg_free (may be
 * NULL) once r is. -1 when out of memory, nothing sent and arg still the
 * caller's. */
int multikey_fanout(struct worker *w, request_t *r, const char *req, size_t len,
                    multikey_merge_fn merge, void *arg, void (*arg_free)(void *arg));
/* As multikey_fanout, to pnode index pnode alone (nparts is 1). */
int multikey_send_one(struct worker *w, request_t *r, size_t pnode, const char *req, size_t len,
                      multikey_merge_fn merge, void *arg, void (*arg_free)(void *arg));
/* The value of the integer reply ":N\r\n" of len bytes at s; -1 if it is
 * not one. */
int multikey_integer(const char *s, size_t len, long long *out);
/* A part's reply is in part->reply. */
void multikey_part_done(request_t *part);
void multikey_free(struct multikey *mk);

#endif
