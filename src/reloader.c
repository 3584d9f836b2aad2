/*
 * reloader.c - reloads run on their own thread, so that loading a large
 * ring (about half a second for a million vnodes) stalls neither the
 * workers nor the admin endpoint. Requests that arrive while a reload runs
 * are served by the next one, which starts after it: each caller gets the
 * outcome of a load that began after it asked.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "proxy.h"

typedef struct reload_waiter {
    struct reload_waiter *next;
    proxy_reload_done_t done;
    void *arg;
    int rc;
    char err[PROXY_ERRLEN];
} reload_waiter_t;

struct reloader {
    proxy_t *proxy;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int wanted;                 /* a reload was asked for */
    int stop;
    reload_waiter_t *waiting;   /* for the next reload */
    reload_waiter_t *finished;  /* outcomes for the main loop */
    struct event *done_ev;      /* on the main loop */
};

static void reloader_done_cb(evutil_socket_t fd, short what, void *arg)
{
    reloader_t *rl = arg;
    pthread_mutex_lock(&rl->lock);
    reload_waiter_t *w = rl->finished;
    rl->finished = NULL;
    pthread_mutex_unlock(&rl->lock);
    while (w != NULL) {
        reload_waiter_t *next = w->next;
        w->done(w->rc, w->err, w->arg);
        free(w);
        w = next;
    }
}

static void *reloader_main(void *arg)
{
    reloader_t *rl = arg;
    pthread_mutex_lock(&rl->lock);
    for (;;) {
        while (!rl->wanted && !rl->stop)
            pthread_cond_wait(&rl->cond, &rl->lock);
        if (rl->stop)
            break;
        reload_waiter_t *batch = rl->waiting;
        rl->waiting = NULL;
        rl->wanted = 0;
        pthread_mutex_unlock(&rl->lock);

        char err[PROXY_ERRLEN] = "";
        int rc = proxy_reload(rl->proxy, err, sizeof(err));

        pthread_mutex_lock(&rl->lock);
        if (batch != NULL) {
            reload_waiter_t *last = batch;
            for (reload_waiter_t *w = batch; w != NULL; w = w->next) {
                w->rc = rc;
                memcpy(w->err, err, sizeof(err));
                last = w;
            }
            last->next = rl->finished;
            rl->finished = batch;
            event_active(rl->done_ev, 0, 0);
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return NULL;
}

reloader_t *reloader_start(proxy_t *p)
{
    reloader_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->proxy = p;
    pthread_mutex_init(&rl->lock, NULL);
    pthread_cond_init(&rl->cond, NULL);
    rl->done_ev = event_new(p->base, -1, 0, reloader_done_cb, rl);
    if (rl->done_ev == NULL || pthread_create(&rl->thread, NULL, reloader_main, rl) != 0) {
        if (rl->done_ev != NULL)
            event_free(rl->done_ev);
        pthread_mutex_destroy(&rl->lock);
        pthread_cond_destroy(&rl->cond);
        free(rl);
        return NULL;
    }
    return rl;
}

int reloader_request(reloader_t *rl, proxy_reload_done_t done, void *arg)
{
    reload_waiter_t *w = NULL;
    if (done != NULL) {
        w = calloc(1, sizeof(*w));
        if (w == NULL)
            return -1;
        w->done = done;
        w->arg = arg;
    }
    pthread_mutex_lock(&rl->lock);
    if (w != NULL) {
        w->next = rl->waiting;
        rl->waiting = w;
    }
    rl->wanted = 1;
    pthread_cond_signal(&rl->cond);
    pthread_mutex_unlock(&rl->lock);
    return 0;
}

static void reloader_free_list(reload_waiter_t *w)
{
    while (w != NULL) {
        reload_waiter_t *next = w->next;
        free(w);
        w = next;
    }
}

void reloader_stop(reloader_t *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_lock(&rl->lock);
    rl->stop = 1;
    pthread_cond_signal(&rl->cond);
    pthread_mutex_unlock(&rl->lock);
    pthread_join(rl->thread, NULL);
    /* Callers still waiting are dropped with the loop they answer on. */
    reloader_free_list(rl->waiting);
    reloader_free_list(rl->finished);
    event_free(rl->done_ev);
    pthread_mutex_destroy(&rl->lock);
    pthread_cond_destroy(&rl->cond);
    free(rl);
}
