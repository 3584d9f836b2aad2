/*
 * proxycmd.h - commands ringproxy answers itself: PING, ECHO, QUIT,
 * SELECT 0, COMMAND (minimal), HELLO 2, CONFIG GET (what redis-benchmark
 * asks for) and RING INFO / RING NODE key.
 */
#ifndef RP_PROXYCMD_H
#define RP_PROXYCMD_H

#include <stddef.h>

#include "client.h"
#include "command.h"
#include "request.h"
#include "resp.h"

void proxycmd_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                     const resp_arg_t *args, size_t argc);

#endif
