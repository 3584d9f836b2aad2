/*
 * proxycmd.h - commands ringproxy answers itself: PING, ECHO, QUIT,
 * SELECT 0, COMMAND COUNT/INFO/DOCS/GETKEYS, HELLO 2, CONFIG GET (what
 * redis-benchmark asks for), TIME, RESET, READONLY/READWRITE, CLIENT
 * (clientcmd.c), INFO (info.c) and RING INFO / RING NODE key.
 */
#ifndef RP_PROXYCMD_H
#define RP_PROXYCMD_H

#include <stddef.h>

#include <event2/buffer.h>

#include "client.h"
#include "command.h"
#include "request.h"
#include "resp.h"

/* Reply pieces shared by the proxy's own commands. */
int proxycmd_is(const char *s, size_t len, const char *word);
void proxycmd_bulk(struct evbuffer *out, const char *s, size_t len);
void proxycmd_bulk_str(struct evbuffer *out, const char *s);
/* src's bytes (moved) as one bulk string. */
void proxycmd_bulk_buffer(struct evbuffer *out, struct evbuffer *src);
/* Redis's "-ERR unknown subcommand 'X'. Try CMD HELP." */
void proxycmd_unknown_subcommand(request_t *r, const char *cmd, const char *sub, size_t len);

void proxycmd_handle(client_t *c, request_t *r, const command_t *cmd, const char *base,
                     const resp_arg_t *args, size_t argc);

#endif
