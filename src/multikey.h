/*
 * multikey.h - MGET, MSET, DEL, UNLINK, EXISTS and TOUCH over keys on
 * several pnodes: one part per pnode, built from the request's own key
 * (and value) slices, and the parts' replies merged in key order.
 * MSET across pnodes is not atomic: each pnode applies its part alone.
 * A write that touches any read-only vnode is refused whole, before any
 * part is sent.
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
/* A part's reply is in part->reply. */
void multikey_part_done(request_t *part);
void multikey_free(struct multikey *mk);

#endif
