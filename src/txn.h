/*
 * txn.h - MULTI ... EXEC. The proxy queues a client's block itself
 * (validated, answered +QUEUED) and at EXEC sends MULTI, the block and
 * EXEC to the one pnode that serves every key of it, in one write on one
 * connection, so no other client's command lands inside. Only EXEC's
 * reply goes back to the client. Keys on several vnodes, a write on a
 * read-only vnode, or a command refused while queueing: EXEC fails and
 * nothing of the block is sent.
 */
#ifndef RP_TXN_H
#define RP_TXN_H

#include <stddef.h>

#include "client.h"
#include "command.h"
#include "request.h"
#include "resp.h"

struct evbuffer;
struct txn;

/* c is inside MULTI: queues the request of total bytes at the head of in
 * (consumed) and returns 1, or returns 0 for the commands that run at
 * once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
int txn_queue(client_t *c, request_t *r, const command_t *cmd, struct evbuffer *in,
              size_t total);
/* MULTI, EXEC, DISCARD, WATCH, UNWATCH (commands flagged CMD_TXN), the
 * request of total bytes at the head of in. Returns 1 when its bytes went
 * to a pnode, 0 when they are still there. */
int txn_command(client_t *c, request_t *r, const command_t *cmd, const char *base,
                const resp_arg_t *args, size_t argc, struct evbuffer *in, size_t total);
/* Drops c's MULTI state, if any (a client that goes away). */
void txn_reset(client_t *c);
/* RESET: MULTI and WATCH dropped. */
void txn_client_reset(client_t *c);

#endif
