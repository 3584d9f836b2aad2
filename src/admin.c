/*
 * admin.c - answers are built from the published ring and the counters,
 * both readable without stopping anyone.
 */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "admin.h"
#include "auth.h"
#include "dbsize.h"
#include "json.h"
#include "log.h"
#include "pinned.h"
#include "procstat.h"
#include "ring.h"
#include "ringref.h"
#include "statuspage.h"

struct admin {
    proxy_t *proxy;
    struct evhttp *http;
    dbsize_t *dbsize;
};

#define ADMIN_ACCEPT_REST_MS 100

static void admin_rest_cb(evutil_socket_t fd, short what, void *arg)
{
    evconnlistener_enable(arg);
}

/* Out of descriptors, evhttp's listener would retry accept at once, for
 * ever: it rests instead, as the workers' listeners do. Its callback
 * argument is evhttp's, so the rest is a one-shot timer on the listener
 * (freed with the base if the proxy stops first). */
static void admin_listen_error_cb(struct evconnlistener *l, void *arg)
{
    static const struct timeval rest = { 0, ADMIN_ACCEPT_REST_MS * 1000 };
    int e = EVUTIL_SOCKET_ERROR();
    if ((e == EMFILE || e == ENFILE) &&
        event_base_once(evconnlistener_get_base(l), -1, EV_TIMEOUT, admin_rest_cb, l,
                        &rest) == 0)
        evconnlistener_disable(l);
    log_warn("admin accept failed error=\"%s\"", evutil_socket_error_to_string(e));
}

typedef struct {
    stats_t s;
    uint64_t clients;
    uint64_t bytes_in, bytes_out;
} admin_totals_t;

static void admin_sum(const proxy_t *p, admin_totals_t *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < p->nworkers; i++) {
        worker_t *w = p->workers[i];
        const uint64_t *src = (const uint64_t *)&w->stats;
        uint64_t *dst = (uint64_t *)&t->s;
        for (size_t k = 0; k < sizeof(stats_t) / sizeof(uint64_t); k++)
            dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
        t->clients += __atomic_load_n(&w->nclients, __ATOMIC_RELAXED);
        t->bytes_in += STAT_GET(w->loop.bytes_in);
        t->bytes_out += STAT_GET(w->loop.bytes_out);
    }
}

static void admin_reply(struct evhttp_request *req, int code, const char *type,
                        struct evbuffer *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", body);
}

static void admin_health(struct evhttp_request *req, admin_t *a, struct evbuffer *out)
{
    ringref_t *rr = ringref_acquire();
    int ok = rr != NULL && a->proxy->nworkers > 0;
    ringref_release(rr);
    evbuffer_add_printf(out, ok ? "ok\n" : "no ring\n");
    admin_reply(req, ok ? 200 : 503, "text/plain", out);
}

static void admin_ring(struct evhttp_request *req, admin_t *a, struct evbuffer *out)
{
    ringref_t *rr = ringref_acquire();
    const ring_t *r = rr->ring;
    json_buf_t jb;
    size_t nro = 0;
    uint32_t *data = ring_data_vnodes(r, &nro);

    json_buf_init(&jb);
    json_printf(&jb, "{\"generation\":%llu,\"checksum\":\"%016llx\",\"algorithm\":\"%s\","
                "\"vnodes\":%u,\"pnodes\":[", (unsigned long long)ring_generation(r),
                (unsigned long long)rr->checksum, ring_algo_name(ring_algo(r)), ring_vnode_count(r));
    for (size_t i = 0; i < ring_pnode_count(r); i++) {
        json_printf(&jb, "%s{\"name\":", i ? "," : "");
        json_put_str(&jb, ring_pnode_name(r, i), strlen(ring_pnode_name(r, i)));
        json_printf(&jb, ",\"vnodes\":%u}", ring_pnode_vnode_count(r, i));
    }
    json_printf(&jb, "],\"ro_vnodes\":[");
    int first = 1;
    for (size_t i = 0; data != NULL && i < nro; i++) {
        const char *d = ring_vnode_data(r, data[i]);
        if (d != NULL && strcmp(d, "ro") == 0) {
            json_printf(&jb, "%s%u", first ? "" : ",", data[i]);
            first = 0;
        }
    }
    json_printf(&jb, "]}\n");
    free(data);
    ringref_release(rr);
    evbuffer_add(out, jb.buf, jb.len);
    json_buf_free(&jb);
    admin_reply(req, 200, "application/json", out);
}

/* name, help, type, value: one table for /metrics and /stats. Room for
 * every sample admin_metrics makes (test_proxy_reload checks that /stats
 * has as many as /metrics). */
#define ADMIN_METRICS 64

typedef struct {
    const char *name;
    const char *help;
    const char *type;
    const char *labels;
    uint64_t value;
    double real;               /* the value, when is_real */
    int is_real;
} admin_metric_t;

/* Vnodes whose data marks them read-only ("ro") or migrating (data
 * "migrating ...", shared/design/resharding.md). */
static void admin_vnode_states(const ring_t *r, uint64_t *ro, uint64_t *migrating)
{
    size_t n = 0;
    uint32_t *data = ring_data_vnodes(r, &n);
    *ro = *migrating = 0;
    for (size_t i = 0; data != NULL && i < n; i++) {
        const char *d = ring_vnode_data(r, data[i]);
        if (d != NULL && strcmp(d, "ro") == 0)
            (*ro)++;
        else if (d != NULL && strncmp(d, "migrating", 9) == 0)
            (*migrating)++;
    }
    free(data);
}

static size_t admin_metrics(const proxy_t *p, admin_metric_t *m, size_t cap)
{
    admin_totals_t t;
    procstat_t ps;
    uint64_t ro = 0, migrating = 0, vnodes = 0;
    int reload_ok;
    int64_t reload_time;
    size_t n = 0;
    admin_sum(p, &t);
    procstat_read(&ps);
    stats_last_reload(&reload_ok, &reload_time);
    ringref_t *rr = ringref_acquire();
    if (rr != NULL) {
        vnodes = ring_vnode_count(rr->ring);
        admin_vnode_states(rr->ring, &ro, &migrating);
    }
    ringref_release(rr);
#define M(nm, hp, ty, lb, v) \
    if (n < cap) m[n++] = (admin_metric_t){ nm, hp, ty, lb, v, 0, 0 }
#define MR(nm, hp, ty, v) \
    if (n < cap) m[n++] = (admin_metric_t){ nm, hp, ty, "", 0, v, 1 }
    /* Error counts were summed after the totals, so they may be newer:
     * never let ok go below zero. */
#define REQ(cl, lb, help) \
    M("ringproxy_requests_total", help, help ? "counter" : NULL, "class=\"" lb "\",result=\"ok\"", \
      t.s.req[cl] > t.s.req_err[cl] ? t.s.req[cl] - t.s.req_err[cl] : 0); \
    M("ringproxy_requests_total", NULL, NULL, "class=\"" lb "\",result=\"error\"", t.s.req_err[cl])
    REQ(STATS_READ, "read", "Requests by command class and result.");
    REQ(STATS_WRITE, "write", NULL);
    REQ(STATS_MULTI, "multikey", NULL);
    REQ(STATS_PROXY, "proxy", NULL);
    REQ(STATS_OTHER, "other", NULL);
#undef REQ
    M("ringproxy_error_replies_total", "Error replies made by the proxy, by kind.", "counter",
      "kind=\"readonly\"", t.s.err_readonly);
    M("ringproxy_error_replies_total", NULL, NULL, "kind=\"unavailable\"", t.s.err_unavailable);
    M("ringproxy_error_replies_total", NULL, NULL, "kind=\"protocol\"", t.s.err_protocol);
    M("ringproxy_error_replies_total", NULL, NULL, "kind=\"unsupported\"", t.s.err_unsupported);
    M("ringproxy_error_replies_total", NULL, NULL, "kind=\"command\"", t.s.err_command);
    M("ringproxy_error_replies_total", NULL, NULL, "kind=\"pnode\"", t.s.err_pnode);
    M("ringproxy_client_connections", "Client connections open.", "gauge", "", t.clients);
    M("ringproxy_dedicated_connections",
      "Pnode connections dedicated to one client (blocking commands, WATCH).", "gauge", "",
      pinned_count());
    M("ringproxy_clients_accepted_total", "Client connections accepted.", "counter", "",
      t.s.clients_accepted);
    M("ringproxy_clients_rejected_total", "Clients refused by max-clients.", "counter", "",
      t.s.clients_rejected);
    M("ringproxy_accept_errors_total", "Accepts failed for want of file descriptors (EMFILE or ENFILE).", "counter", "reason=\"EMFILE\"", t.s.accept_errors_fds);
    M("ringproxy_tls_clients_accepted_total", "Client connections accepted on tls-port.",
      "counter", "", t.s.tls_accepted);
    M("ringproxy_tls_handshake_failures_total",
      "TLS clients whose handshake failed, timed out or was abandoned.", "counter", "",
      t.s.tls_handshake_failed);
    M("ringproxy_client_output_limit_closes_total",
      "Clients closed over an output limit, by limit.", "counter", "limit=\"hard\"",
      t.s.output_limit_hard);
    M("ringproxy_client_output_limit_closes_total", NULL, NULL, "limit=\"soft\"",
      t.s.output_limit_soft);
    M("ringproxy_subscription_connections", "Subscribers' connections to pnodes open.", "gauge",
      "", t.s.pubsub_links);
    M("ringproxy_subscriptions_refused_total",
      "(P|S)SUBSCRIBEs refused by max-subscription-connections.", "counter", "",
      t.s.pubsub_refused);
    M("ringproxy_pubsub_messages_total", "Pub/sub messages forwarded to subscribers.", "counter",
      "", t.s.pubsub_messages);
    M("ringproxy_bytes_in_total", "Bytes read from clients and pnodes.", "counter", "", t.bytes_in);
    M("ringproxy_bytes_out_total", "Bytes written to clients and pnodes.", "counter", "", t.bytes_out);
    M("ringproxy_ring_generation", "Generation of the ring in force.", "gauge", "",
      proxy_generation());
    M("ringproxy_reloads_total", "Ring reloads by outcome.", "counter", "result=\"ok\"",
      __atomic_load_n(&p->reloads_ok, __ATOMIC_RELAXED));
    M("ringproxy_reloads_total", NULL, NULL, "result=\"failed\"",
      __atomic_load_n(&p->reloads_failed, __ATOMIC_RELAXED));
    M("ringproxy_workers", "Worker threads.", "gauge", "", (uint64_t)p->nworkers);
    M("ringproxy_ring_vnodes", "Vnodes in the ring in force.", "gauge", "", vnodes);
    M("ringproxy_ro_vnodes", "Vnodes marked read-only in the ring in force.", "gauge", "", ro);
    M("ringproxy_migrating_vnodes", "Vnodes marked migrating in the ring in force.", "gauge", "",
      migrating);
    M("ringproxy_build_info", "The version this proxy was built from.", "gauge",
      "version=\"" RINGPROXY_VERSION "\",libevent=\"" LIBEVENT_VERSION "\"", 1);
    M("ringproxy_last_reload_success", "Whether the last ring load (the start counts) worked.",
      "gauge", "", (uint64_t)reload_ok);
    M("ringproxy_last_reload_timestamp_seconds", "When the last ring load was tried.", "gauge", "",
      (uint64_t)reload_time);
    M("process_open_fds", "Number of open file descriptors.", "gauge", "", ps.open_fds);
    M("process_max_fds", "Maximum number of open file descriptors.", "gauge", "", ps.max_fds);
    M("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", "",
      ps.resident_bytes);
    MR("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
       ps.cpu_seconds);
    MR("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
       "gauge", ps.start_time);
#undef MR
#undef M
    return n;
}

/* The per-pnode figures that come from the ring in force and from
 * outside the workers (keys, up), for /metrics and /stats alike. */
typedef struct {
    const ring_t *ring;
    const dbsize_t *dbsize;
    uint64_t keys_total;
    int keys_known;            /* every pnode's DBSIZE is known */
} admin_ring_ctx_t;

/* The value for pnode name (idx in the ring, -1 if it left the ring),
 * whose summed counters are sum; -1 for no sample. */
typedef int (*admin_pnode_value_t)(const admin_ring_ctx_t *c, long idx, const char *name,
                                   const stats_pnode_slot_t *sum, double *v);

static int admin_pnode_vnodes(const admin_ring_ctx_t *c, long idx, const char *name,
                              const stats_pnode_slot_t *sum, double *v)
{
    (void)name;
    (void)sum;
    *v = idx < 0 ? 0 : ring_pnode_vnode_count(c->ring, (size_t)idx);
    return 0;
}

static int admin_pnode_vnodes_ratio(const admin_ring_ctx_t *c, long idx, const char *name,
                                    const stats_pnode_slot_t *sum, double *v)
{
    uint32_t total = ring_vnode_count(c->ring);
    admin_pnode_vnodes(c, idx, name, sum, v);
    *v = total > 0 ? *v / total : 0;
    return 0;
}

static int admin_pnode_keys(const admin_ring_ctx_t *c, long idx, const char *name,
                            const stats_pnode_slot_t *sum, double *v)
{
    uint64_t keys;
    (void)idx;
    (void)sum;
    if (c->dbsize == NULL || dbsize_get(c->dbsize, name, &keys) < 0)
        return -1;
    *v = (double)keys;
    return 0;
}

/* Only when every pnode answered: a share of a partial total misleads. */
static int admin_pnode_keys_ratio(const admin_ring_ctx_t *c, long idx, const char *name,
                                  const stats_pnode_slot_t *sum, double *v)
{
    if (idx < 0 || !c->keys_known || admin_pnode_keys(c, idx, name, sum, v) < 0)
        return -1;
    *v = c->keys_total > 0 ? *v / (double)c->keys_total : 0;
    return 0;
}

/* Up until a worker fails to reach it, and again once all that did have. */
static int admin_pnode_up(const admin_ring_ctx_t *c, long idx, const char *name,
                          const stats_pnode_slot_t *sum, double *v)
{
    (void)c;
    (void)idx;
    (void)name;
    *v = sum == NULL || !sum->down;
    return 0;
}

/* The per-pnode families: a counter or gauge read at off in the summed
 * slot, the latency histogram, or (value set) a figure of the ring in
 * force, the pnodes or their up/down state. */
typedef struct {
    const char *name, *help, *type;
    size_t off;
    admin_pnode_value_t value;
} admin_pnode_family_t;

static const admin_pnode_family_t admin_pnode_families[] = {
    { "ringproxy_pnode_requests_total", "Requests sent to each pnode.", "counter",
      offsetof(stats_pnode_slot_t, requests), NULL },
    { "ringproxy_pnode_errors_total", "Error replies the proxy made for each pnode.", "counter",
      offsetof(stats_pnode_slot_t, errors), NULL },
    { "ringproxy_pnode_inflight", "Requests awaiting each pnode's reply.", "gauge",
      offsetof(stats_pnode_slot_t, inflight), NULL },
    { "ringproxy_pnode_connects_total",
      "Connections opened to each pnode (reconnects included).", "counter",
      offsetof(stats_pnode_slot_t, connects), NULL },
    { "ringproxy_pnode_latency_seconds", "Time from sending to each pnode to its reply.",
      "histogram", 0, NULL },
    { "ringproxy_pnode_vnodes", "Vnodes each pnode holds in the ring in force.", "gauge", 0,
      admin_pnode_vnodes },
    { "ringproxy_pnode_vnodes_ratio", "Each pnode's share of the ring's vnodes.", "gauge", 0,
      admin_pnode_vnodes_ratio },
    { "ringproxy_pnode_keys", "Keys on each pnode (its DBSIZE, asked every few seconds).",
      "gauge", 0, admin_pnode_keys },
    { "ringproxy_pnode_keys_ratio", "Each pnode's share of the keys on all pnodes.", "gauge", 0,
      admin_pnode_keys_ratio },
    { "ringproxy_pnode_up", "Whether each pnode is up (0 while a worker finds it down).",
      "gauge", 0, admin_pnode_up },
};

#define ADMIN_NFAMILIES (sizeof(admin_pnode_families) / sizeof(admin_pnode_families[0]))

static void admin_ring_ctx(const admin_t *a, const ring_t *r, admin_ring_ctx_t *c)
{
    uint64_t keys;
    c->ring = r;
    c->dbsize = a->dbsize;
    c->keys_total = 0;
    c->keys_known = a->dbsize != NULL;
    for (size_t i = 0; c->keys_known && i < ring_pnode_count(r); i++) {
        c->keys_known = dbsize_get(a->dbsize, ring_pnode_name(r, i), &keys) == 0;
        c->keys_total += c->keys_known ? keys : 0;
    }
}

/* One ring-derived family, in the ring's pnode order. */
static void admin_ring_prom(struct evbuffer *out, const admin_pnode_family_t *fam,
                            const admin_ring_ctx_t *c)
{
    for (size_t i = 0; i < ring_pnode_count(c->ring); i++) {
        const char *name = ring_pnode_name(c->ring, i);
        stats_pnode_slot_t sum;
        double v;
        int have = stats_pnode_get(name, &sum) == 0;
        if (fam->value(c, (long)i, name, have ? &sum : NULL, &v) == 0)
            evbuffer_add_printf(out, "%s{pnode=\"%s\"} %.15g\n", fam->name, name, v);
    }
}



/* One family of per-pnode samples; a family's lines must stay together. */
typedef struct {
    struct evbuffer *out;
    const admin_pnode_family_t *family;
} admin_pnode_arg_t;

/* Pnode names come from the ring, which checked they are addresses: no
 * quotes or backslashes to escape in a label. */
static void admin_pnode_prom(const char *name, const stats_pnode_slot_t *s, void *arg)
{
    const admin_pnode_arg_t *pa = arg;
    const char *fam = pa->family->name;
    struct evbuffer *out = pa->out;
    uint64_t cum = 0;

    if (strcmp(pa->family->type, "histogram") != 0) {
        uint64_t v = *(const uint64_t *)((const char *)s + pa->family->off);
        evbuffer_add_printf(out, "%s{pnode=\"%s\"} %llu\n", fam, name, (unsigned long long)v);
        return;
    }
    for (size_t b = 0; b <= STATS_LAT_BUCKETS; b++) {
        cum += s->lat[b];
        if (b < STATS_LAT_BUCKETS)
            evbuffer_add_printf(out, "%s_bucket{pnode=\"%s\",le=\"%g\"} %llu\n", fam, name,
                                stats_lat_bounds_ms[b] / 1000.0, (unsigned long long)cum);
        else
            evbuffer_add_printf(out, "%s_bucket{pnode=\"%s\",le=\"+Inf\"} %llu\n", fam, name,
                                (unsigned long long)cum);
    }
    evbuffer_add_printf(out, "%s_sum{pnode=\"%s\"} %.6f\n", fam, name,
                        (double)s->lat_sum_us / 1e6);
    evbuffer_add_printf(out, "%s_count{pnode=\"%s\"} %llu\n", fam, name, (unsigned long long)cum);
}

typedef struct {
    struct evbuffer *out;
    const admin_ring_ctx_t *ctx;
} admin_json_arg_t;

static void admin_pnode_json(const char *name, const stats_pnode_slot_t *s, void *arg)
{
    const admin_json_arg_t *ja = arg;
    struct evbuffer *out = ja->out;
    uint64_t replies = 0;
    for (size_t b = 0; b <= STATS_LAT_BUCKETS; b++)
        replies += s->lat[b];
    evbuffer_add_printf(out, "%s\"%s\":{\"requests\":%llu,\"errors\":%llu,\"inflight\":%llu,"
                        "\"connects\":%llu,\"replies\":%llu,\"latency_sum_us\":%llu",
                        evbuffer_get_length(out) > 0 ? "," : "",
                        name, (unsigned long long)s->requests, (unsigned long long)s->errors,
                        (unsigned long long)s->inflight, (unsigned long long)s->connects,
                        (unsigned long long)replies, (unsigned long long)s->lat_sum_us);
    long idx = ring_pnode_find(ja->ctx->ring, name);
    for (size_t f = 0; f < ADMIN_NFAMILIES; f++) {
        const admin_pnode_family_t *fam = &admin_pnode_families[f];
        double v;
        const char *key = fam->name + strlen("ringproxy_pnode_");
        if (fam->value == NULL)
            continue;
        if (fam->value(ja->ctx, idx, name, s, &v) == 0)
            evbuffer_add_printf(out, ",\"%s\":%.15g", key, v);
        else
            evbuffer_add_printf(out, ",\"%s\":null", key);
    }
    evbuffer_add_printf(out, "}");
}

/* A sample's value in the text format and in JSON alike. */
static void admin_metric_value(struct evbuffer *out, const admin_metric_t *m)
{
    if (m->is_real)
        evbuffer_add_printf(out, "%.15g", m->real);
    else
        evbuffer_add_printf(out, "%llu", (unsigned long long)m->value);
}

static void admin_prometheus(struct evhttp_request *req, admin_t *a, struct evbuffer *out)
{
    admin_metric_t m[ADMIN_METRICS];
    size_t n = admin_metrics(a->proxy, m, ADMIN_METRICS);
    for (size_t i = 0; i < n; i++) {
        if (m[i].help != NULL)
            evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m[i].name, m[i].help,
                                m[i].name, m[i].type);
        if (m[i].labels[0] != '\0')
            evbuffer_add_printf(out, "%s{%s} ", m[i].name, m[i].labels);
        else
            evbuffer_add_printf(out, "%s ", m[i].name);
        admin_metric_value(out, &m[i]);
        evbuffer_add_printf(out, "\n");
    }
    ringref_t *rr = ringref_acquire();
    admin_ring_ctx_t c;
    if (rr != NULL)
        admin_ring_ctx(a, rr->ring, &c);
    for (size_t f = 0; f < ADMIN_NFAMILIES; f++) {
        const admin_pnode_family_t *fam = &admin_pnode_families[f];
        evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name,
                            fam->type);
        admin_pnode_arg_t pa = { out, fam };
        if (fam->value == NULL)
            stats_pnode_each(admin_pnode_prom, &pa);
        else if (rr != NULL)
            admin_ring_prom(out, fam, &c);
    }
    ringref_release(rr);
    admin_reply(req, 200, "text/plain; version=0.0.4", out);
}

static void admin_stats(struct evhttp_request *req, admin_t *a, struct evbuffer *out)
{
    admin_metric_t m[ADMIN_METRICS];
    size_t n = admin_metrics(a->proxy, m, ADMIN_METRICS);
    evbuffer_add_printf(out, "{");
    for (size_t i = 0; i < n; i++) {
        /* ringproxy_x_total{a="y",b="z"} -> "x_total_y_z"; process_x stays. */
        char key[128];
        const char *base = m[i].name;
        if (strncmp(base, "ringproxy_", 10) == 0)
            base += 10;
        size_t k = (size_t)snprintf(key, sizeof(key), "%s", base);
        for (const char *q = strchr(m[i].labels, '"'); q != NULL && k < sizeof(key);
             q = strchr(strchr(q + 1, '"') + 1, '"')) {
            const char *end = strchr(q + 1, '"');
            k += (size_t)snprintf(key + k, sizeof(key) - k, "_%.*s", (int)(end - q - 1), q + 1);
        }
        evbuffer_add_printf(out, "%s\"%s\":", i ? "," : "", key);
        admin_metric_value(out, &m[i]);
    }
    struct evbuffer *pn = evbuffer_new();
    ringref_t *rr = ringref_acquire();
    if (pn != NULL && rr != NULL) {
        admin_ring_ctx_t c;
        admin_ring_ctx(a, rr->ring, &c);
        admin_json_arg_t ja = { pn, &c };
        stats_pnode_each(admin_pnode_json, &ja);
        evbuffer_add_printf(out, ",\"pnodes\":{");
        evbuffer_add_buffer(out, pn);
        evbuffer_add_printf(out, "}");
    }
    ringref_release(rr);
    if (pn != NULL)
        evbuffer_free(pn);
    evbuffer_add_printf(out, "}\n");
    admin_reply(req, 200, "application/json", out);
}

static void admin_reload_done(int rc, const char *err, void *arg)
{
    struct evhttp_request *req = arg;
    struct evbuffer *out = evbuffer_new();
    json_buf_t jb;
    if (out == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    json_buf_init(&jb);
    json_printf(&jb, "{\"ok\":%s,\"generation\":%llu", rc == 0 ? "true" : "false",
                (unsigned long long)proxy_generation());
    if (rc < 0) {
        json_printf(&jb, ",\"error\":");
        json_put_str(&jb, err, strlen(err));
    }
    json_printf(&jb, "}\n");
    evbuffer_add(out, jb.buf, jb.len);
    json_buf_free(&jb);
    admin_reply(req, rc == 0 ? 200 : 500, "application/json", out);
    evbuffer_free(out);
}

/* Answered when the reload thread is done (reloader.c). */
static void admin_reload(struct evhttp_request *req, admin_t *a, struct evbuffer *out)
{
    if (a->proxy->reloader == NULL || reloader_request(a->proxy->reloader, admin_reload_done, req) < 0)
        evhttp_send_error(req, 503, "reloads unavailable");
}

/* With admin-token set, every request but GET /health (left open for load
 * balancers' probes, which tell nothing secret) needs the bearer token. */
static int admin_authorized(struct evhttp_request *req, admin_t *a, const char *path)
{
    const char *token = a->proxy->cfg.admin_token;
    if (!auth_enabled(token) || strcmp(path, "/health") == 0)
        return 1;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    return h != NULL && strncmp(h, "Bearer ", 7) == 0 && auth_equal(token, h + 7, strlen(h + 7));
}

static void admin_cb(struct evhttp_request *req, void *arg)
{
    admin_t *a = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    struct evbuffer *out = evbuffer_new();

    if (out == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    if (path == NULL)
        path = "/";
    if (!admin_authorized(req, a, path)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
        evbuffer_add_printf(out, "{\"error\":\"missing or wrong bearer token\"}\n");
        admin_reply(req, 401, "application/json", out);
    } else if (method == EVHTTP_REQ_GET && strcmp(path, "/") == 0) {
        evbuffer_add(out, statuspage_html, strlen(statuspage_html));
        admin_reply(req, 200, "text/html; charset=utf-8", out);
    } else if (method == EVHTTP_REQ_GET && strcmp(path, "/health") == 0)
        admin_health(req, a, out);
    else if (method == EVHTTP_REQ_GET && strcmp(path, "/ring") == 0)
        admin_ring(req, a, out);
    else if (method == EVHTTP_REQ_GET && strcmp(path, "/metrics") == 0)
        admin_prometheus(req, a, out);
    else if (method == EVHTTP_REQ_GET && strcmp(path, "/stats") == 0)
        admin_stats(req, a, out);
    else if (method == EVHTTP_REQ_POST && strcmp(path, "/reload") == 0)
        admin_reload(req, a, out);
    else
        evhttp_send_error(req, 404, "GET / /health /ring /stats /metrics, POST /reload");
    evbuffer_free(out);
}

int admin_addr_parse(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
                     size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    struct addrinfo hints, *ai = NULL;
    char *end;
    long n = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == addr || (size_t)(colon - addr) >= hostlen ||
        end == colon + 1 || *end != '\0' || n <= 0 || n > 65535) {
        snprintf(err, errlen, "admin address '%s' is not HOST:PORT", addr);
        return -1;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
        snprintf(err, errlen, "admin address '%s' is not HOST:PORT", addr);
        return -1;
    }
    freeaddrinfo(ai);
    *port = (uint16_t)n;
    return 0;
}

admin_t *admin_new(proxy_t *p, const char *addr, char *err, size_t errlen)
{
    char host[256];
    uint16_t port;
    if (admin_addr_parse(addr, host, sizeof(host), &port, err, errlen) < 0)
        return NULL;
    admin_t *a = calloc(1, sizeof(*a));
    if (a == NULL || (a->http = evhttp_new(p->base)) == NULL) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->proxy = p;
    /* Without key counts the rest still works. */
    a->dbsize = dbsize_new(p->base, p->cfg.backend_password);
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(a->http, admin_cb, a);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(a->http, host, port);
    if (bound == NULL) {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(err, errlen, "cannot listen on admin address %s: %s", addr,
                 evutil_socket_error_to_string(e));
        admin_free(a);
        return NULL;
    }
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound), admin_listen_error_cb);
    return a;
}

void admin_free(admin_t *a)
{
    if (a == NULL)
        return;
    if (a->http != NULL)
        evhttp_free(a->http);
    dbsize_free(a->dbsize);
    free(a);
}
