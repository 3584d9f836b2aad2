/*
 * fanout.h - keyspace-wide commands sent to every pnode and their replies
 * merged: DBSIZE and counts summed, KEYS concatenated, RANDOMKEY from a
 * random pnode that has keys, FLUSHALL/FLUSHDB, SCRIPT and FUNCTION
 * answered when every pnode agrees, WAIT and LASTSAVE the least of the
 * pnodes. SCAN (scan.c) goes to one pnode at a time.
 */
#ifndef RP_FANOUT_H
#define RP_FANOUT_H

#include <stddef.h>

#include <event2/buffer.h>

#include "client.h"
#include "command.h"
#include "request.h"
#include "resp.h"

/* Handles a CMD_FANOUT command; r gets its reply (now or once the pnodes
 * answer). */
void fanout_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                   const resp_arg_t *args, size_t argc);
/* args[from..argc) as RESP bulk strings (the caller writes the array's
 * header). */
void fanout_encode(struct evbuffer *out, const char *base, const resp_arg_t *args, size_t from,
                   size_t argc);

#endif
