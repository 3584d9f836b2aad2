/*
 * stats.c - the per-pnode registry. Lookups and scrapes take the lock;
 * the counters themselves are written lock-free by their worker.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

const double stats_lat_bounds_ms[STATS_LAT_BUCKETS] = {
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000,
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static stats_pnode_t *stats_pnodes;
static int stats_nworkers;
static int stats_reload_ok;        /* atomic */
static int64_t stats_reload_time;  /* atomic */

int stats_init(int nworkers)
{
    stats_nworkers = nworkers;
    stats_reload(1);
    return 0;
}

void stats_reload(int ok)
{
    __atomic_store_n(&stats_reload_ok, ok, __ATOMIC_RELAXED);
    __atomic_store_n(&stats_reload_time, (int64_t)time(NULL), __ATOMIC_RELAXED);
}

void stats_last_reload(int *ok, int64_t *unix_time)
{
    *ok = __atomic_load_n(&stats_reload_ok, __ATOMIC_RELAXED);
    *unix_time = __atomic_load_n(&stats_reload_time, __ATOMIC_RELAXED);
}

void stats_free(void)
{
    pthread_mutex_lock(&stats_lock);
    while (stats_pnodes != NULL) {
        stats_pnode_t *p = stats_pnodes;
        stats_pnodes = p->next;
        free(p->name);
        free(p->slots);
        free(p);
    }
    pthread_mutex_unlock(&stats_lock);
}

stats_pnode_slot_t *stats_pnode_slot(const char *name, int worker)
{
    stats_pnode_t *p;
    stats_pnode_slot_t *slot = NULL;

    if (worker < 0 || worker >= stats_nworkers)
        return NULL;
    pthread_mutex_lock(&stats_lock);
    for (p = stats_pnodes; p != NULL; p = p->next) {
        if (strcmp(p->name, name) == 0)
            break;
    }
    if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
        p->name = strdup(name);
        p->slots = aligned_alloc(64, (size_t)stats_nworkers * sizeof(*p->slots));
        if (p->name == NULL || p->slots == NULL) {
            free(p->name);
            free(p->slots);
            free(p);
            p = NULL;
        } else {
            memset(p->slots, 0, (size_t)stats_nworkers * sizeof(*p->slots));
            for (int w = 0; w < stats_nworkers; w++)
                p->slots[w].pnode = p;
            p->next = stats_pnodes;
            stats_pnodes = p;
        }
    }
    if (p != NULL)
        slot = &p->slots[worker];
    pthread_mutex_unlock(&stats_lock);
    return slot;
}

void stats_pnode_latency(stats_pnode_slot_t *s, uint64_t us)
{
    size_t b = 0;
    while (b < STATS_LAT_BUCKETS && (double)us > stats_lat_bounds_ms[b] * 1000.0)
        b++;
    STAT_INC(s->lat[b]);
    STAT_ADD(s->lat_sum_us, us);
}

int stats_pnode_mark(stats_pnode_slot_t *s, int down)
{
    if (s->down == down)
        return 0;
    s->down = down;
    int n = __atomic_add_fetch(&s->pnode->ndown, down ? 1 : -1, __ATOMIC_RELAXED);
    return down ? n == 1 : n == 0;
}

static void stats_pnode_sum(const stats_pnode_t *p, stats_pnode_slot_t *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (int w = 0; w < stats_nworkers; w++) {
        const uint64_t *src = (const uint64_t *)&p->slots[w];
        uint64_t *dst = (uint64_t *)sum;
        for (size_t k = 0; k < offsetof(stats_pnode_slot_t, lat_sum_us) / 8 + 1; k++)
            dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    }
    sum->down = __atomic_load_n(&p->ndown, __ATOMIC_RELAXED) > 0;
}

int stats_pnode_get(const char *name, stats_pnode_slot_t *sum)
{
    int rc = -1;
    pthread_mutex_lock(&stats_lock);
    for (stats_pnode_t *p = stats_pnodes; p != NULL; p = p->next) {
        if (strcmp(p->name, name) == 0) {
            stats_pnode_sum(p, sum);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&stats_lock);
    return rc;
}

void stats_pnode_each(void (*fn)(const char *name, const stats_pnode_slot_t *sum, void *arg),
                      void *arg)
{
    pthread_mutex_lock(&stats_lock);
    for (stats_pnode_t *p = stats_pnodes; p != NULL; p = p->next) {
        stats_pnode_slot_t sum;
        stats_pnode_sum(p, &sum);
        fn(p->name, &sum, arg);
    }
    pthread_mutex_unlock(&stats_lock);
}
