/*
 * reload.c - SIGHUP and POST /reload. Runs on the main thread, never on a
 * worker: the image is read and validated whole before anything is
 * published, so a bad ring never replaces a good one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"
#include "ring.h"
#include "ringref.h"
#include "stats.h"

/* A ring-tool holding the image open is normal and brief. */
#define RELOAD_LOCK_TRIES 4
#define RELOAD_LOCK_WAIT_MS 50
/* How long to wait for every worker to switch before letting the last
 * worker free the old ring instead. */
#define RELOAD_SWITCH_WAIT_MS 1000

static int64_t reload_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t proxy_generation(void)
{
    ringref_t *rr = ringref_acquire();
    uint64_t g = rr != NULL ? ring_generation(rr->ring) : 0;
    ringref_release(rr);
    return g;
}

int proxy_load_ring(const char *dir, ring_t **out, char *err, size_t errlen)
{
    char sub[RING_ERRLEN];
    int wait = RELOAD_LOCK_WAIT_MS;
    for (int i = 0;; i++) {
        if (ring_load(dir, out, sub) == 0)
            return 0;
        if (strstr(sub, "locked") == NULL || i + 1 == RELOAD_LOCK_TRIES)
            break;
        usleep((useconds_t)wait * 1000);
        wait *= 2;
    }
    snprintf(err, errlen, "%s", sub);
    return -1;
}

int proxy_check_ring(const ring_t *old, const ring_t *nw, char *err, size_t errlen)
{
    char sub[RING_ERRLEN];
    ring_addr_t a;
    if (old != NULL && ring_vnode_count(old) != ring_vnode_count(nw)) {
        snprintf(err, errlen, "vnode count changed from %u to %u", ring_vnode_count(old),
                 ring_vnode_count(nw));
        return -1;
    }
    if (old != NULL && ring_algo(old) != ring_algo(nw)) {
        snprintf(err, errlen, "algorithm changed from %s to %s", ring_algo_name(ring_algo(old)),
                 ring_algo_name(ring_algo(nw)));
        return -1;
    }
    for (size_t i = 0; i < ring_pnode_count(nw); i++) {
        if (ring_pnode_addr(ring_pnode_name(nw, i), &a, sub) < 0) {
            snprintf(err, errlen, "%s", sub);
            return -1;
        }
    }
    return 0;
}

/* NULL and "" both mean unset. */
static int reload_str_changed(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

/* Options that take effect at run time are stored atomically; workers read
 * them as they go. The others are reported as needing a restart. */
static void reload_config(proxy_t *p)
{
    config_t nc;
    char err[CONFIG_ERRLEN];
    config_t *cfg = &p->cfg;

    if (p->config_path == NULL)
        return;
    config_init(&nc);
    int rc = config_load(&nc, p->config_path, err);
    for (int i = 0; rc == 0 && i < p->noverrides; i++)
        rc = config_set(&nc, p->override_names[i], p->override_values[i], err);
    if (rc == 0)
        rc = config_validate(&nc, err);
    if (rc < 0) {
        log_warn("config reload rejected file=%s reason=\"%s\"", p->config_path, err);
        config_free(&nc);
        return;
    }
#define RELOAD_SET(f) __atomic_store_n(&cfg->f, nc.f, __ATOMIC_RELAXED)
    RELOAD_SET(connect_timeout_ms);
    RELOAD_SET(server_timeout_ms);
    RELOAD_SET(reconnect_min_ms);
    RELOAD_SET(reconnect_max_ms);
    RELOAD_SET(client_idle_timeout);
    RELOAD_SET(max_clients);
    RELOAD_SET(max_request_bytes);
    RELOAD_SET(max_pipeline);
    RELOAD_SET(max_dedicated_connections);
    RELOAD_SET(max_subscription_connections);
    RELOAD_SET(client_output_limit_hard);
    RELOAD_SET(client_output_limit_soft.bytes);
    RELOAD_SET(client_output_limit_soft.seconds);
    RELOAD_SET(hash_tags);
    RELOAD_SET(dirname_routing);
    RELOAD_SET(tls_handshake_timeout_ms);
#undef RELOAD_SET
    if (nc.log_level != cfg->log_level) {
        cfg->log_level = nc.log_level;
        log_set_level(nc.log_level);
    }
    struct { const char *name; int changed; } fixed[] = {
        { "ring", strcmp(nc.ring, cfg->ring) != 0 },
        { "listen", strcmp(nc.listen, cfg->listen) != 0 },
        { "threads", nc.threads != cfg->threads },
        { "admin", reload_str_changed(nc.admin, cfg->admin) },
        { "pidfile", reload_str_changed(nc.pidfile, cfg->pidfile) },
        { "syslog", nc.syslog != cfg->syslog },
        { "backend-connections", nc.backend_connections != cfg->backend_connections },
        { "preconnect", nc.preconnect != cfg->preconnect },
        { "requirepass", reload_str_changed(nc.requirepass, cfg->requirepass) },
        { "backend-password", reload_str_changed(nc.backend_password, cfg->backend_password) },
        { "admin-token", reload_str_changed(nc.admin_token, cfg->admin_token) },
        { "tls-port", nc.tls_port != cfg->tls_port },
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (fixed[i].changed)
            log_warn("config option cannot change at run time option=%s (restart to apply)",
                     fixed[i].name);
    }
    /* Certificates are read again even when their paths stay: rotating
     * them in place is the usual way. */
    nc.tls_port = cfg->tls_port;
    if (tls_reload(p->tls, &nc, err, sizeof(err)) < 0)
        log_warn("TLS reload failed, the old certificates stay reason=\"%s\"", err);
    else
        log_debug("TLS certificates reloaded");
    config_free(&nc);
}

/* Says whether the content changed. The generation alone cannot: node-fash
 * edits an image without bumping it, so the checksum decides, and a change
 * at the same generation is called out (it is applied all the same). */
static void reload_report(const proxy_t *p, const ringref_t *old)
{
    ringref_t *nw = ringref_acquire();
    uint64_t og = old != NULL ? ring_generation(old->ring) : 0, ng = ring_generation(nw->ring);
    uint64_t os = old != NULL ? old->checksum : 0;

    if (old != NULL && og == ng && os != nw->checksum)
        log_warn("ring content changed at the same generation, applied (an edit that did not "
                 "bump RINGPROXY_GENERATION, e.g. by fash) dir=%s generation=%llu "
                 "checksum=%016llx previous=%016llx", p->cfg.ring, (unsigned long long)ng,
                 (unsigned long long)nw->checksum, (unsigned long long)os);
    else
        log_info("ring content %s dir=%s generation=%llu checksum=%016llx",
                 old != NULL && os == nw->checksum ? "unchanged" : "changed", p->cfg.ring,
                 (unsigned long long)ng, (unsigned long long)nw->checksum);
    ringref_release(nw);
}

int proxy_reload(proxy_t *p, char *err, size_t errlen)
{
    int64_t t0 = reload_now_ms();
    ring_t *r = NULL;

    reload_config(p);
    ringref_t *cur = ringref_acquire();
    int rc = proxy_load_ring(p->cfg.ring, &r, err, errlen);
    if (rc == 0)
        rc = proxy_check_ring(cur != NULL ? cur->ring : NULL, r, err, errlen);
    if (rc == 0 && ringref_publish(r) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc < 0) {
        ring_free(r);
        ringref_release(cur);
        __atomic_add_fetch(&p->reloads_failed, 1, __ATOMIC_RELAXED);
        stats_reload(0);
        log_warn("ring reload failed dir=%s generation=%llu reason=\"%s\"", p->cfg.ring,
                 (unsigned long long)proxy_generation(), err);
        return -1;
    }
    int64_t t1 = reload_now_ms();
    for (int i = 0; i < p->nworkers; i++)
        worker_notify_ring(p->workers[i]);
    /* Once only this thread holds the old ring, every worker routes with
     * the new one; freeing the old ring here keeps that work (large for a
     * big ring) off the workers. */
    while (cur != NULL && ringref_users(cur) > 1 && reload_now_ms() - t1 < RELOAD_SWITCH_WAIT_MS)
        usleep(500);
    int64_t t2 = reload_now_ms();
    reload_report(p, cur);
    ringref_release(cur);
    __atomic_add_fetch(&p->reloads_ok, 1, __ATOMIC_RELAXED);
    stats_reload(1);
    p->last_reload_ms = t2 - t0;
    log_info("ring reloaded dir=%s generation=%llu ms=%lld switch_ms=%lld", p->cfg.ring,
             (unsigned long long)proxy_generation(), (long long)(t2 - t0), (long long)(t2 - t1));
    return 0;
}
