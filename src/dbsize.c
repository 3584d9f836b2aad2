/*
 * dbsize.c - one small RESP exchange per pnode and poll: [AUTH], DBSIZE,
 * then close. A pnode that does not answer in time counts as unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "auth.h"
#include "dbsize.h"
#include "ring.h"
#include "ringref.h"

#define DBSIZE_POLL_MS 5000
#define DBSIZE_TIMEOUT_MS 1000

typedef struct dbsize_entry {
    struct dbsize_entry *next;
    char *name;
    struct bufferevent *bev;   /* a poll in progress */
    int replies;               /* still to come on bev */
    int known;
    uint64_t keys;
} dbsize_entry_t;

struct dbsize {
    struct event_base *base;
    struct event *timer;
    char *password;
    dbsize_entry_t *entries;   /* names only grow, and slowly, as in stats.c */
};

static void dbsize_done(dbsize_entry_t *e, int known, uint64_t keys)
{
    bufferevent_free(e->bev);
    e->bev = NULL;
    e->known = known;
    e->keys = keys;
}

static void dbsize_read_cb(struct bufferevent *bev, void *arg)
{
    dbsize_entry_t *e = arg;
    char *line;
    while (e->bev != NULL &&
           (line = evbuffer_readln(bufferevent_get_input(bev), NULL, EVBUFFER_EOL_CRLF)) != NULL) {
        char *end;
        unsigned long long n = 0;
        int ok = line[0] != '-';
        if (--e->replies == 0) {
            n = strtoull(line + 1, &end, 10);
            ok = line[0] == ':' && end != line + 1 && *end == '\0';
        }
        free(line);
        if (!ok)
            dbsize_done(e, 0, 0);
        else if (e->replies == 0)
            dbsize_done(e, 1, (uint64_t)n);
    }
}

static void dbsize_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT))
        dbsize_done(arg, 0, 0);
}

static dbsize_entry_t *dbsize_entry(dbsize_t *d, const char *name)
{
    dbsize_entry_t *e;
    for (e = d->entries; e != NULL; e = e->next) {
        if (strcmp(e->name, name) == 0)
            return e;
    }
    if ((e = calloc(1, sizeof(*e))) == NULL || (e->name = strdup(name)) == NULL) {
        free(e);
        return NULL;
    }
    e->next = d->entries;
    d->entries = e;
    return e;
}

static void dbsize_poll_one(dbsize_t *d, dbsize_entry_t *e)
{
    char err[RING_ERRLEN], hostport[300];
    ring_addr_t a;
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    struct timeval tv = { DBSIZE_TIMEOUT_MS / 1000, (DBSIZE_TIMEOUT_MS % 1000) * 1000 };

    if (ring_pnode_addr(e->name, &a, err) < 0 || a.tls)
        return;
    snprintf(hostport, sizeof(hostport), strchr(a.host, ':') ? "[%s]:%u" : "%s:%u", a.host,
             (unsigned)a.port);
    if (evutil_parse_sockaddr_port(hostport, (struct sockaddr *)&ss, &sslen) < 0)
        return;
    e->bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (e->bev == NULL)
        return;
    bufferevent_setcb(e->bev, dbsize_read_cb, NULL, dbsize_event_cb, e);
    bufferevent_set_timeouts(e->bev, &tv, &tv);
    struct evbuffer *out = bufferevent_get_output(e->bev);
    e->replies = 1;
    if (auth_enabled(d->password)) {
        evbuffer_add_printf(out, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n", strlen(d->password),
                            d->password);
        e->replies++;
    }
    evbuffer_add_printf(out, "*1\r\n$6\r\nDBSIZE\r\n");
    bufferevent_enable(e->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(e->bev, (struct sockaddr *)&ss, sslen) < 0)
        dbsize_done(e, 0, 0);
}

static void dbsize_poll(evutil_socket_t fd, short what, void *arg)
{
    dbsize_t *d = arg;
    struct timeval tv = { DBSIZE_POLL_MS / 1000, (DBSIZE_POLL_MS % 1000) * 1000 };
    ringref_t *rr = ringref_acquire();

    (void)fd;
    (void)what;
    for (size_t i = 0; rr != NULL && i < ring_pnode_count(rr->ring); i++) {
        dbsize_entry_t *e = dbsize_entry(d, ring_pnode_name(rr->ring, i));
        /* One that has not answered by now is given up. */
        if (e != NULL && e->bev != NULL)
            dbsize_done(e, 0, 0);
        if (e != NULL)
            dbsize_poll_one(d, e);
    }
    ringref_release(rr);
    evtimer_add(d->timer, &tv);
}

dbsize_t *dbsize_new(struct event_base *base, const char *password)
{
    static const struct timeval now = { 0, 0 };
    dbsize_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->base = base;
    d->timer = evtimer_new(base, dbsize_poll, d);
    d->password = password != NULL ? strdup(password) : NULL;
    if (d->timer == NULL || (password != NULL && d->password == NULL)) {
        dbsize_free(d);
        return NULL;
    }
    evtimer_add(d->timer, &now);
    return d;
}

void dbsize_free(dbsize_t *d)
{
    if (d == NULL)
        return;
    if (d->timer != NULL)
        event_free(d->timer);
    while (d->entries != NULL) {
        dbsize_entry_t *e = d->entries;
        d->entries = e->next;
        if (e->bev != NULL)
            bufferevent_free(e->bev);
        free(e->name);
        free(e);
    }
    free(d->password);
    free(d);
}

int dbsize_get(const dbsize_t *d, const char *name, uint64_t *keys)
{
    for (const dbsize_entry_t *e = d->entries; e != NULL; e = e->next) {
        if (strcmp(e->name, name) == 0 && e->known) {
            *keys = e->keys;
            return 0;
        }
    }
    return -1;
}
