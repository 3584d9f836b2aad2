/*
 * pubsub.h - SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs.
 * A subscribing client gets its own subscription connection to each pnode
 * it subscribes on (a channel on its pnode by the ring, a pattern on every
 * pnode), in its RESP version; the pnodes' messages are forwarded to it as
 * bytes, after the replies already owed. The confirmations, with Redis's
 * counts for one server, are the proxy's, sent once the pnodes have
 * confirmed. A subscription connection that breaks closes the client.
 */
#ifndef RP_PUBSUB_H
#define RP_PUBSUB_H

#include <stddef.h>

#include "client.h"
#include "command.h"
#include "request.h"
#include "resp.h"

/* cmd is one of the six (un)subscribe commands. */
void pubsub_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                   const resp_arg_t *args, size_t argc);
/* A RESP2 client with subscriptions may only run the commands Redis lets
 * it: 1 when cmd is refused (r has Redis's error). */
int pubsub_refuse(client_t *c, request_t *r, const command_t *cmd, const char *base,
                  const resp_arg_t *args, size_t argc);
/* PING of a RESP2 client with subscriptions, answered as Redis does: 1
 * when it was. */
int pubsub_ping(client_t *c, request_t *r, const char *base, const resp_arg_t *args, size_t argc);
/* c's channels, patterns and shard channels, as CLIENT LIST shows them. */
void pubsub_counts(const client_t *c, size_t out[3]);
/* Drops c's subscriptions and their connections (RESET, and the client
 * going away: flush 0, its requests are only marked done). */
void pubsub_reset(client_t *c, int flush);

#endif
