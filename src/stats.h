/*
 * stats.h - counters. Each worker owns one stats_t and is its only writer;
 * the admin endpoint sums them. Relaxed atomic stores and loads make the
 * cross-thread reads well defined at the cost of a plain add.
 */
#ifndef RP_STATS_H
#define RP_STATS_H

#include <stdint.h>

/* Request classes: single-key reads and writes, multi-key requests (split
 * or not), commands the proxy answers, and the rest (unknown, unsupported,
 * wrong arity). */
enum { STATS_READ, STATS_WRITE, STATS_MULTI, STATS_PROXY, STATS_OTHER, STATS_CLASSES };

typedef struct stats {
    uint64_t req[STATS_CLASSES];     /* requests by class, as dispatched */
    uint64_t req_err[STATS_CLASSES]; /* of those, answered with an error */
    uint64_t err_readonly;
    uint64_t err_unavailable;
    uint64_t err_protocol;
    uint64_t err_unsupported;
    uint64_t err_command;     /* unknown command, arity */
    uint64_t err_pnode;       /* error replies from pnodes, passed on */
    uint64_t clients_accepted;
    uint64_t clients_rejected;
    uint64_t accept_errors_fds;    /* accept failed: EMFILE or ENFILE */
    uint64_t tls_accepted;         /* clients accepted on tls-port */
    uint64_t tls_handshake_failed; /* of those, handshake failed or timed out */
    uint64_t output_limit_hard; /* clients closed over an output limit */
    uint64_t output_limit_soft;
    uint64_t pubsub_links;      /* subscription connections open (a gauge) */
    uint64_t pubsub_refused;    /* subscriptions refused by the limit on them */
    uint64_t pubsub_messages;   /* messages forwarded to subscribers */
} stats_t;

/* Per-pnode counters: one slot per worker, so no two threads write one
 * cache line. Entries live until exit (the set of pnode names only grows,
 * and slowly), so a pointer to a slot stays valid across ring swaps. */
#define STATS_LAT_BUCKETS 12
extern const double stats_lat_bounds_ms[STATS_LAT_BUCKETS];

typedef struct stats_pnode_slot {
    uint64_t requests;
    uint64_t errors;           /* error replies made for it by the proxy */
    uint64_t inflight;
    uint64_t connects;         /* connections opened (attempts) */
    uint64_t lat[STATS_LAT_BUCKETS + 1]; /* replies by latency bucket; last = +Inf */
    uint64_t lat_sum_us;
    /* Not summed: this worker's view of the pnode, and its entry. */
    int down;
    struct stats_pnode *pnode;
} __attribute__((aligned(64))) stats_pnode_slot_t;

typedef struct stats_pnode {
    struct stats_pnode *next;
    char *name;
    stats_pnode_slot_t *slots;
    int ndown;                 /* workers that saw it down (atomic) */
} stats_pnode_t;

int stats_init(int nworkers);
void stats_free(void);
/* The slot of worker for pnode name (created on first use); NULL if out
 * of memory. Takes a lock: call when a connection is set up, not per
 * request. */
stats_pnode_slot_t *stats_pnode_slot(const char *name, int worker);
/* Records one reply that took us microseconds. Worker thread only. */
void stats_pnode_latency(stats_pnode_slot_t *s, uint64_t us);
/* Records that this worker found the pnode down (or up). Returns 1 when
 * that changed the pnode's state as all workers see it: the first worker
 * to find it down, or the last to find it up again, so that the change is
 * logged once per pnode and not once per worker. */
int stats_pnode_mark(stats_pnode_slot_t *s, int down);
/* The pnode's slots summed into sum; -1 if no worker has set it up yet.
 * In a sum, down is whether any worker finds the pnode down. */
int stats_pnode_get(const char *name, stats_pnode_slot_t *sum);
/* The outcome of a ring load; the start counts as one. */
void stats_reload(int ok);
void stats_last_reload(int *ok, int64_t *unix_time);
/* Calls fn for every pnode with its slots summed, under the lock. */
void stats_pnode_each(void (*fn)(const char *name, const stats_pnode_slot_t *sum, void *arg),
                      void *arg);

#define STAT_INC(field) __atomic_store_n(&(field), (field) + 1, __ATOMIC_RELAXED)
#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define STAT_DEC(field) __atomic_store_n(&(field), (field) - 1, __ATOMIC_RELAXED)

#endif
