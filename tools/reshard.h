/*
 * reshard.h - what the files of ring-tool's reshard verb share: the plan
 * (which vnode moves from which pnode to which, in batches) and its record
 * on disk, the proxies to reload, and the key moves on the pnodes.
 */
#ifndef RESHARD_H
#define RESHARD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "redis-client.h"
#include "ring-tool.h"

#define RESHARD_ERRLEN 1024

/* Completed steps of a batch, in order (shared/design/resharding.md). */
enum {
    RESHARD_STEP_NONE = 0,
    RESHARD_STEP_COPIED,   /* bulk copy done while writable */
    RESHARD_STEP_RO,       /* vnodes ro, every proxy reloaded */
    RESHARD_STEP_VERIFIED, /* copied again and verified */
    RESHARD_STEP_REMAPPED, /* remapped and ro cleared, proxies reloaded */
    RESHARD_STEP_CLEANED,  /* moved keys deleted from the source */
};

typedef struct {
    uint32_t vnode;
    uint32_t from, to; /* indices into the plan's pnodes */
} reshard_move_t;

typedef struct {
    int step;
    int64_t ro_us;     /* wall clock of the ro commit, microseconds */
    int64_t window_us; /* write-blocked window, once remapped */
    uint64_t keys, bytes;
} reshard_batch_t;

/* A ring as the state knows it: generation and content checksum. */
typedef struct {
    uint64_t gen, sum;
} reshard_ring_id_t;

typedef struct {
    char *args;        /* the command's plan arguments, to match a rerun */
    char *ringdir;     /* the ring's directory, absolute */
    reshard_ring_id_t origin; /* the ring the plan was made on */
    reshard_ring_id_t last;   /* the last ring the reshard saw or stored */
    char *status;      /* running, done or rolled-back */
    uint32_t nvnodes;
    uint32_t batch;
    char **pnodes;
    size_t npnodes;
    reshard_move_t *moves;
    size_t nmoves;
    reshard_batch_t *batches;
    size_t nbatches;
} reshard_plan_t;

/* Monotonic time in microseconds, and a sleep that Ctrl-C cuts short
 * (ring-tool-reshard.c). */
int64_t reshard_mono_us(void);
void reshard_sleep_ms(int ms);

/* --- the plan (reshard-plan.c) ------------------------------------------- */

/* The moves the command asks for on ring r, in batches of batch vnodes;
 * args is reshard_plan_args's line. No moves is an error that says why. */
int reshard_plan_new(const rt_cmd_t *cmd, const ring_t *r, uint32_t batch, const char *args,
                     reshard_plan_t **out, char *err);
void reshard_plan_free(reshard_plan_t *p);
/* The plan's arguments as one line, e.g. "split A to C batch 64"; malloc'd. */
char *reshard_plan_args(const rt_cmd_t *cmd, uint32_t batch);
/* Batch b's moves: moves[*first .. *first + *n). */
void reshard_plan_batch(const reshard_plan_t *p, size_t b, size_t *first, size_t *n);
/* Prints the plan, per source and target, with vnode ranges. */
void reshard_plan_print(const reshard_plan_t *p);

/* --- the state file (reshard-state.c) ------------------------------------ */

/* Where the state lives unless --state says: RINGDIR.reshard beside the
 * ring's directory. malloc'd. */
char *reshard_state_default(const char *ringdir);
/* Reads a state file; 1 if there is none, 0 read, -1 bad. */
int reshard_state_read(const char *path, reshard_plan_t **out, char *err);
/* Writes the plan atomically (temp file, fsync, rename, fsync dir). */
int reshard_state_write(const char *path, const reshard_plan_t *p, char *err);
/* The identity of ring r, for p->origin and p->last. */
void reshard_ring_id(const ring_t *r, reshard_ring_id_t *id);
/* Whether ring r (in dir) is the one the recorded plan p belongs to: the
 * last ring the reshard stored, or a later generation (a commit the state
 * did not record yet, or later changes), with every vnode of a batch the
 * state says was remapped on its target. Else -1, saying what differs. */
int reshard_state_check_ring(const reshard_plan_t *p, const char *path, const char *dir, const ring_t *r,
                             char *err);

/* --- proxies (reshard-proxy.c) ------------------------------------------- */

typedef struct {
    char *spec;       /* as given, for messages */
    int http;         /* admin endpoint; else pidfile + RING INFO */
    char *pidfile;
    char host[256];
    uint16_t port;
} reshard_proxy_t;

/* "http://HOST:PORT,PIDFILE@HOST:PORT,...". */
int reshard_proxies_parse(const char *list, reshard_proxy_t **out, size_t *n, char *err);
void reshard_proxies_free(reshard_proxy_t *p, size_t n);
/* The ring generation the proxy serves now. */
int reshard_proxy_generation(const reshard_proxy_t *p, int timeout_ms, uint64_t *gen, char *err);
/* Asks the proxy to reload and waits until it serves generation >= want. */
int reshard_proxy_reload(const reshard_proxy_t *p, uint64_t want, int timeout_ms, char *err);

/* --- moving keys (reshard-copy.c) ---------------------------------------- */

typedef struct reshard_io reshard_io_t;

/* Keys are hashed with r (its algorithm and vnode count) after taking the
 * routing key as the proxy does with hash tags or dirname routing. */
reshard_io_t *reshard_io_new(const reshard_plan_t *p, const ring_t *r, int hash_tags, int dirname,
                             volatile sig_atomic_t *stop, char *err);
void reshard_io_free(reshard_io_t *io);
/* Connects to every pnode of the plan and checks that it answers and can
 * be scanned. */
int reshard_io_check(reshard_io_t *io, char *err);
/* Marks the vnodes of moves[0..n) as the ones to work on. */
void reshard_io_select(reshard_io_t *io, const reshard_move_t *moves, size_t n);
/* Step 1 (verify 0) and step 3 (verify 1) for the selected vnodes: copies
 * every key of theirs from its source to its target with DUMP, PTTL and
 * RESTORE REPLACE. With verify, also deletes the target's keys the source
 * no longer has and checks every key on the target against the source. */
int reshard_io_copy(reshard_io_t *io, int verify, uint64_t *keys, uint64_t *bytes, char *err);
/* Deletes the selected vnodes' keys from their sources (from_side) or
 * from their targets. */
int reshard_io_delete(reshard_io_t *io, int from_side, uint64_t *keys, char *err);
/* Estimates the keys and bytes the plan moves off each source by sampling
 * and prints them (for --dry-run). */
int reshard_io_estimate(reshard_io_t *io, char *err);
/* Keys copied so far, for progress. */
uint64_t reshard_io_copied(const reshard_io_t *io);
/* fn(arg) is called after every page of keys, to show progress. */
void reshard_io_progress(reshard_io_t *io, void (*fn)(void *), void *arg);

#endif
