/*
 * pubsubcmd.h - PUBSUB's subcommands, over every pnode.
 */
#ifndef RP_PUBSUBCMD_H
#define RP_PUBSUBCMD_H

#include <stddef.h>

#include "client.h"
#include "request.h"
#include "resp.h"

void pubsubcmd_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                      size_t argc);

#endif
