/*
 * clientcmd.h - CLIENT, answered by the proxy for the client's own
 * connection to it (Redis's semantics and error texts), and the per-client
 * state it needs: the id, the name and the connection time.
 */
#ifndef RP_CLIENTCMD_H
#define RP_CLIENTCMD_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "request.h"
#include "resp.h"

/* A new client gets its id; client_new calls this, client_free the other. */
void clientcmd_init(client_t *c);
void clientcmd_free(client_t *c);
/* Clients connected to the process, all workers. */
uint64_t clientcmd_connected(void);
/* Clients accepted since start (the highest id given). */
uint64_t clientcmd_accepted(void);

/* Redis's rule for client names; -1 with the error made on r. */
int clientcmd_check_name(request_t *r, const char *s, size_t len);
/* c's name from now on (empty: none); -1 with the error made on r. */
int clientcmd_set_name(client_t *c, request_t *r, const char *s, size_t len);

void clientcmd_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                      size_t argc);

#endif
