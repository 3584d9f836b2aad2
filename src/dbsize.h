/*
 * dbsize.h - the number of keys on each pnode, asked of it (DBSIZE) every
 * few seconds from the main thread's loop, never from a worker, on a
 * connection of its own with a short timeout. Only tcp:// pnodes with a
 * numeric address are asked: a name would need a blocking lookup and a
 * tls:// pnode a handshake, both too costly for a figure.
 */
#ifndef RP_DBSIZE_H
#define RP_DBSIZE_H

#include <stdint.h>

struct event_base;
typedef struct dbsize dbsize_t;

/* Starts polling now; password (may be NULL) is sent with AUTH first. */
dbsize_t *dbsize_new(struct event_base *base, const char *password);
void dbsize_free(dbsize_t *d);
/* The keys on pnode name as of the last poll: 0, or -1 if its last poll
 * failed or none ran. Main thread only. */
int dbsize_get(const dbsize_t *d, const char *name, uint64_t *keys);

#endif
