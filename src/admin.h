/*
 * admin.h - the admin HTTP endpoint (libevent's evhttp) on the main
 * thread's loop: GET /health, /ring, /stats, /metrics and POST /reload.
 * It reads the workers' counters and never calls into a worker.
 */
#ifndef RP_ADMIN_H
#define RP_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "proxy.h"

typedef struct admin admin_t;

/* Splits HOST:PORT into host (hostlen bytes) and port, and checks that the
 * host resolves; -1 with err set otherwise. */
int admin_addr_parse(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
                     size_t errlen);
admin_t *admin_new(proxy_t *p, const char *addr, char *err, size_t errlen);
void admin_free(admin_t *a);

#endif
