/*
 * stats.h - counters. Each worker owns one stats_t and is its only writer;
 * the admin endpoint sums them. Relaxed atomic stores and loads make the
 * cross-thread reads well defined at the cost of a plain add.
 */
#ifndef RP_STATS_H
#define RP_STATS_H

#include <stdint.h>

typedef struct stats {
    uint64_t req_read;        /* routed single-key reads */
    uint64_t req_write;       /* routed single-key writes */
    uint64_t req_multi;       /* split multi-key requests and same-pnode ones */
    uint64_t req_proxy;       /* answered by the proxy */
    uint64_t err_readonly;
    uint64_t err_unavailable;
    uint64_t err_protocol;
    uint64_t err_unsupported;
    uint64_t err_command;     /* unknown command, arity */
    uint64_t clients_accepted;
    uint64_t clients_rejected;
} stats_t;

#define STAT_INC(field) __atomic_store_n(&(field), (field) + 1, __ATOMIC_RELAXED)
#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

#endif
