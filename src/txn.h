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
/* MULTI, EXEC, DISCARD (commands flagged CMD_TXN). */
void txn_command(client_t *c, request_t *r, const command_t *cmd);
/* Drops c's MULTI state, if any (RESET, a client that goes away). */
void txn_reset(client_t *c);

#endif
