/*
 * ringbench.h - what ringbench's parts share: the run's settings, and what
 * a run measured.
 */
#ifndef RINGBENCH_H
#define RINGBENCH_H

#include <stdint.h>

#include "histogram.h"
#include "ring.h"
#include "verify.h"

#define RB_ERRLEN 512
/* No run lasts longer, whatever -n says. */
#define RB_MAX_SECONDS 86400.0
/* With requests outstanding and no reply for this long, the run gives up. */
#define RB_STALL_SECONDS 10.0
/* Pause before retrying a write refused with READONLY. */
#define RB_READONLY_PAUSE_MS 50
/* Pause before reconnecting a dropped connection. */
#define RB_RECONNECT_MS 100

typedef struct {
    const char *host;
    uint16_t port;
    uint32_t conns, pipeline;
    uint64_t requests;       /* the budget, when duration is 0 */
    double duration;         /* seconds, 0 for a count */
    double rate;             /* requests/s over all connections, 0 unpaced */
    uint32_t keyspace;
    const char *dist;
    uint32_t ratio_set, ratio_get;
    uint32_t value_size;
    int tls;
    const char *tls_ca;      /* verify the server against it; NULL: no check */
    const char *tls_cert;    /* client certificate and key */
    const char *tls_key;
    const char *auth;
    int json;
    int verify;
    double verify_every;     /* seconds between read-backs, 0 for none */
    const char *per_pnode;   /* ring directory */
    const char *keep_state;  /* --keep-state FILE */
    const char *check_only;  /* --check-only FILE */
    uint64_t seed;
    int progress;            /* live progress on stderr */
} rb_config_t;

typedef enum {
    RB_ERR_READONLY,
    RB_ERR_UNAVAILABLE,
    RB_ERR_OTHER,
    RB_ERR_KINDS,
} rb_err_kind_t;

typedef struct {
    uint64_t requests, sets, gets;    /* workload replies (or losses) */
    uint64_t errors[RB_ERR_KINDS];
    uint64_t readonly_retries;
    uint64_t unknown_writes;          /* writes that may or may not have landed */
    uint64_t unverified;              /* read-back reads that got no value */
    uint64_t sweeps;                  /* full read-backs finished */
    int started;                      /* set up and connecting */
    double elapsed;                   /* seconds of load */
    histogram_t *latency;             /* nanoseconds */
    char first_error[160];            /* the first error reply, for people */
    /* --per-pnode */
    ring_t *ring;
    uint64_t *pnode_requests, *pnode_errors;
    /* --verify */
    verify_t *verify;
} rb_result_t;

/* Runs the load (or the read-back alone, with check_only) to its end.
 * Returns 0, or -1 with err set when the run could not go on (no
 * connection, AUTH refused, the server stopped answering). res is filled
 * either way and must be released with rb_result_free. */
int rb_run(const rb_config_t *cfg, rb_result_t *res, char *err);
void rb_result_free(rb_result_t *res);

#endif
