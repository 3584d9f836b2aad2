/*
 * proxy.h - the process: its config, its workers and the operations that
 * act on all of them (reload), shared by main and the admin endpoint.
 */
#ifndef RP_PROXY_H
#define RP_PROXY_H

#include <stdint.h>

#include "config.h"
#include "ring.h"
#include "tls.h"
#include "worker.h"

struct event_base;
struct admin;
typedef struct reloader reloader_t;

typedef struct proxy {
    config_t cfg;
    const char *config_path;     /* NULL: no file */
    const char **override_names; /* command-line flags, applied over the file */
    const char **override_values;
    int noverrides;
    worker_t **workers;
    int nworkers;
    struct event_base *base;     /* the main thread's loop */
    struct admin *admin;
    tls_t *tls;
    reloader_t *reloader;
    uint64_t reloads_ok;         /* atomic */
    uint64_t reloads_failed;     /* atomic */
    int64_t last_reload_ms;      /* how long the last good reload took */
} proxy_t;

#define PROXY_ERRLEN 640

/* Reads the config again (the options that may change at run time), then
 * loads, validates and publishes the ring. On failure the old ring stays,
 * the failure is logged and counted, and -1 returned with err set. */
int proxy_reload(proxy_t *p, char *err, size_t errlen);
/* The reload thread (reloader.c). done runs on the main loop with the
 * outcome of a reload that started after the request. */
typedef void (*proxy_reload_done_t)(int rc, const char *err, void *arg);
reloader_t *reloader_start(proxy_t *p);
/* done may be NULL (SIGHUP). */
int reloader_request(reloader_t *rl, proxy_reload_done_t done, void *arg);
void reloader_stop(reloader_t *rl);

/* ring_load, retried a few times while another process holds the image. */
int proxy_load_ring(const char *dir, ring_t **out, char *err, size_t errlen);
/* The checks a ring must pass to be used: every pnode name an address,
 * and against the ring in force (old, may be NULL) the same vnode count
 * and algorithm. */
int proxy_check_ring(const ring_t *old, const ring_t *nw, char *err, size_t errlen);
/* The generation in force. */
uint64_t proxy_generation(void);

#endif
