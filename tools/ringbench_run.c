/*
 * ringbench_run.c - the load itself: one event_base, cfg->conns
 * bufferevents each keeping cfg->pipeline requests in flight, replies
 * matched to requests in order, then (with --verify) a read-back of every
 * written key over the same connections.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "keyspace.h"
#include "reply.h"
#include "ringbench.h"
#include "tls.h"

typedef enum {
    REQ_GET,
    REQ_SET,
    REQ_AUTH,
    REQ_SWEEP, /* a read-back GET */
} req_kind_t;

typedef struct {
    uint8_t kind;
    uint32_t key;
    uint32_t pnode;
    uint64_t floor;     /* GET and SWEEP with --verify */
    verify_write_t w;   /* SET with --verify */
    uint64_t sent_ns;
} rb_req_t;

typedef enum {
    PHASE_LOAD,  /* sending the workload */
    PHASE_DRAIN, /* waiting for the workload's last replies */
    PHASE_SWEEP, /* the final read-back */
    PHASE_DONE,
} rb_phase_t;

typedef struct rb_run rb_run_t;

typedef struct {
    rb_run_t *run;
    struct bufferevent *bev;
    struct event *timer;  /* reconnect delay */
    rb_req_t *q;          /* requests in flight, oldest at head */
    uint32_t head, count, cap;
    int connected, ever_connected;
} rb_conn_t;

/* A write refused with READONLY, due again at `due`. */
typedef struct {
    uint32_t key;
    uint64_t due;
} rb_retry_t;

struct rb_run {
    const rb_config_t *cfg;
    rb_result_t *res;
    struct event_base *base;
    SSL_CTX *ssl;
    struct sockaddr_storage addr;
    int addrlen;
    rb_conn_t *conns;
    keyspace_t *ks;
    rb_phase_t phase;
    uint64_t issued;            /* workload requests sent */
    uint64_t outstanding;       /* requests of any kind in flight */
    uint64_t start_ns, load_end_ns, last_progress_ns, last_tick_requests;
    uint32_t sweep_cursor;      /* next key to read back */
    int sweep_active;           /* a read-back is under way */
    int sweeping;               /* ... and still has keys to send */
    uint64_t sweep_outstanding;
    /* refused writes waiting out their pause, oldest first (all pauses are
     * equal, so a FIFO is in due order) */
    rb_retry_t *retries;
    size_t retry_head, retry_count, retry_cap;
    struct event *tick, *pace, *stop_timer, *sweep_timer, *sigint, *sigterm;
    char *value;                /* the value without --verify */
    char *vbuf;                 /* scratch for --verify values */
    size_t vbuf_cap;
    int failed;
    char *err;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double since_start(const rb_run_t *run, uint64_t now)
{
    return (double)(now - run->start_ns) / 1e9;
}

static void run_fail(rb_run_t *run, const char *fmt, const char *detail)
{
    if (!run->failed) {
        snprintf(run->err, RB_ERRLEN, fmt, run->cfg->host, run->cfg->port, detail);
        run->failed = 1;
    }
    run->phase = PHASE_DONE;
    event_base_loopbreak(run->base);
}

static void conn_fill(rb_conn_t *c);
static void conn_connect(rb_conn_t *c);
static void run_advance(rb_run_t *run);

/* --- sending ------------------------------------------------------------- */

static rb_req_t *conn_push(rb_conn_t *c, req_kind_t kind, uint32_t key, uint64_t now)
{
    rb_req_t *r = &c->q[(c->head + c->count++) % c->cap];
    r->kind = (uint8_t)kind;
    r->key = key;
    r->sent_ns = now;
    c->run->outstanding++;
    if (c->run->res->ring != NULL && kind != REQ_AUTH) {
        char name[KEYSPACE_KEYLEN];
        ring_node_t node;
        ring_lookup(c->run->res->ring, name, keyspace_key(key, name), &node);
        r->pnode = node.pnode;
    }
    return r;
}

static void send_get(rb_conn_t *c, req_kind_t kind, uint32_t key, uint64_t now)
{
    rb_run_t *run = c->run;
    rb_req_t *r = conn_push(c, kind, key, now);
    if (run->res->verify != NULL)
        r->floor = verify_read_begin(run->res->verify, key);
    char name[KEYSPACE_KEYLEN], head[64];
    size_t klen = keyspace_key(key, name);
    int n = snprintf(head, sizeof(head), "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", klen, name);
    evbuffer_add(bufferevent_get_output(c->bev), head, (size_t)n);
}

static void send_set(rb_conn_t *c, uint32_t key, uint64_t now)
{
    rb_run_t *run = c->run;
    rb_req_t *r = conn_push(c, REQ_SET, key, now);
    const char *val = run->value;
    size_t vlen = run->cfg->value_size;
    if (run->res->verify != NULL) {
        verify_write_begin(run->res->verify, key, &r->w);
        vlen = verify_value(run->vbuf, run->vbuf_cap, key, r->w.seq, vlen);
        val = run->vbuf;
    }
    char name[KEYSPACE_KEYLEN], head[80];
    size_t klen = keyspace_key(key, name);
    int n = snprintf(head, sizeof(head), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%zu\r\n", klen,
                     name, vlen);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, head, (size_t)n);
    evbuffer_add(out, val, vlen);
    evbuffer_add(out, "\r\n", 2);
}

static void send_auth(rb_conn_t *c, uint64_t now)
{
    const char *pass = c->run->cfg->auth;
    conn_push(c, REQ_AUTH, 0, now);
    evbuffer_add_printf(bufferevent_get_output(c->bev), "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n",
                        strlen(pass), pass);
}

/* The next written key at or after the read-back cursor; 0 when done. */
static int sweep_next(rb_run_t *run, uint32_t *key)
{
    verify_t *v = run->res->verify;
    uint32_t n = verify_nkeys(v);
    while (run->sweep_cursor < n && !verify_written(v, run->sweep_cursor))
        run->sweep_cursor++;
    if (run->sweep_cursor >= n) {
        run->sweeping = 0;
        return 0;
    }
    *key = run->sweep_cursor++;
    return 1;
}

/* Counts a read-back once its last reply is in. */
static void sweep_finish(rb_run_t *run)
{
    if (run->sweep_active && !run->sweeping && run->sweep_outstanding == 0) {
        run->sweep_active = 0;
        run->res->sweeps++;
    }
}

/* Whether the workload may send one more request now. */
static int may_issue(rb_run_t *run, uint64_t now)
{
    const rb_config_t *cfg = run->cfg;
    if (run->phase != PHASE_LOAD)
        return 0;
    if (cfg->duration == 0 && run->issued >= cfg->requests)
        return 0;
    return cfg->rate == 0 || (double)run->issued < cfg->rate * since_start(run, now) + 1;
}

static void conn_fill(rb_conn_t *c)
{
    rb_run_t *run = c->run;
    const rb_config_t *cfg = run->cfg;
    uint64_t now = now_ns();
    while (c->connected && c->count < cfg->pipeline) {
        uint32_t key;
        if (run->sweeping && sweep_next(run, &key)) {
            send_get(c, REQ_SWEEP, key, now);
            run->sweep_outstanding++;
            continue;
        }
        if (run->sweeping || !may_issue(run, now))
            break;
        run->issued++;
        if (run->retry_count > 0 && run->retries[run->retry_head].due <= now) {
            key = run->retries[run->retry_head].key;
            run->retry_head = (run->retry_head + 1) % run->retry_cap;
            run->retry_count--;
            run->res->readonly_retries++;
            send_set(c, key, now);
            continue;
        }
        key = keyspace_next(run->ks);
        double u = keyspace_uniform(run->ks);
        if (u * (cfg->ratio_set + cfg->ratio_get) < cfg->ratio_set)
            send_set(c, key, now);
        else
            send_get(c, REQ_GET, key, now);
    }
    sweep_finish(run);
}

static void run_fill_all(rb_run_t *run)
{
    for (uint32_t i = 0; i < run->cfg->conns; i++)
        conn_fill(&run->conns[i]);
}

/* --- replies ------------------------------------------------------------- */

static rb_err_kind_t classify(const reply_t *r)
{
    if (r->len >= 8 && memcmp(r->str, "READONLY", 8) == 0)
        return RB_ERR_READONLY;
    if (memmem(r->str, r->len, "unavailable", 11) != NULL)
        return RB_ERR_UNAVAILABLE;
    return RB_ERR_OTHER;
}

static void note_error(rb_run_t *run, const rb_req_t *q, rb_err_kind_t kind, const char *msg,
                       size_t len)
{
    rb_result_t *res = run->res;
    res->errors[kind]++;
    if (res->pnode_errors != NULL)
        res->pnode_errors[q->pnode]++;
    if (res->first_error[0] == '\0') {
        if (len >= sizeof(res->first_error))
            len = sizeof(res->first_error) - 1;
        memcpy(res->first_error, msg, len);
        res->first_error[len] = '\0';
    }
}

/* Queues a refused write to be sent again after the READONLY pause; the
 * connection goes on with other requests meanwhile. */
static void retry_later(rb_run_t *run, uint32_t key, uint64_t now)
{
    if (run->retry_count == run->retry_cap) {
        size_t cap = run->retry_cap ? run->retry_cap * 2 : 64;
        rb_retry_t *grown = malloc(cap * sizeof(*grown));
        if (grown == NULL)
            return; /* out of memory: the write is given up, as at the end of a run */
        for (size_t i = 0; i < run->retry_count; i++)
            grown[i] = run->retries[(run->retry_head + i) % run->retry_cap];
        free(run->retries);
        run->retries = grown;
        run->retry_head = 0;
        run->retry_cap = cap;
    }
    rb_retry_t *r = &run->retries[(run->retry_head + run->retry_count++) % run->retry_cap];
    r->key = key;
    r->due = now + RB_READONLY_PAUSE_MS * 1000000ull;
}


/* One request's fate: r is its reply, or NULL when the connection dropped
 * with it in flight. */
static void handle_reply(rb_conn_t *c, const rb_req_t *q, const reply_t *r, uint64_t now)
{
    rb_run_t *run = c->run;
    rb_result_t *res = run->res;
    verify_t *v = res->verify;
    static const reply_t lost = {REPLY_ERROR, "connection lost (unavailable)", 29};
    if (r == NULL)
        r = &lost;
    if (q->kind == REQ_AUTH) {
        if (r->type == REPLY_ERROR) {
            char msg[160];
            snprintf(msg, sizeof(msg), "%.*s", (int)(r->len > 150 ? 150 : r->len), r->str);
            run_fail(run, "AUTH refused by %s:%u: %s", msg);
        }
        return;
    }
    if (q->kind == REQ_SWEEP) {
        run->sweep_outstanding--;
        if (r->type == REPLY_ERROR)
            res->unverified++;
        else
            verify_note(v, q->key, verify_read_check(v, q->key, q->floor, r->str, r->len,
                                                     r->type == REPLY_NIL));
        sweep_finish(run);
        return;
    }
    res->requests++;
    if (res->pnode_requests != NULL)
        res->pnode_requests[q->pnode]++;
    histogram_record(res->latency, now > q->sent_ns ? now - q->sent_ns : 0);
    rb_err_kind_t kind = r->type == REPLY_ERROR ? classify(r) : RB_ERR_KINDS;
    if (kind != RB_ERR_KINDS)
        note_error(run, q, kind, r->str, r->len);
    if (q->kind == REQ_GET) {
        res->gets++;
        if (v != NULL && kind == RB_ERR_KINDS)
            verify_note(v, q->key, verify_read_check(v, q->key, q->floor, r->str, r->len,
                                                     r->type == REPLY_NIL));
        return;
    }
    res->sets++;
    if (v != NULL) {
        verify_outcome_t out = kind == RB_ERR_KINDS ? VERIFY_ACKED
                             : kind == RB_ERR_READONLY ? VERIFY_REFUSED : VERIFY_UNKNOWN;
        res->unknown_writes += out == VERIFY_UNKNOWN;
        verify_write_end(v, q->key, &q->w, out);
    }
    if (kind == RB_ERR_READONLY && run->phase == PHASE_LOAD)
        retry_later(run, q->key, now);
}

static rb_req_t *conn_pop(rb_conn_t *c)
{
    rb_req_t *q = &c->q[c->head];
    c->head = (c->head + 1) % c->cap;
    c->count--;
    c->run->outstanding--;
    return q;
}

/* Fails every request in flight and reconnects after a pause. */
static void conn_drop(rb_conn_t *c, const char *why)
{
    rb_run_t *run = c->run;
    if (!c->ever_connected) {
        run_fail(run, "cannot connect to %s:%u: %s", why);
        return;
    }
    uint64_t now = now_ns();
    while (c->count > 0)
        handle_reply(c, conn_pop(c), NULL, now);
    bufferevent_free(c->bev);
    c->bev = NULL;
    c->connected = 0;
    if (run->phase != PHASE_DONE) {
        struct timeval tv = {0, RB_RECONNECT_MS * 1000};
        evtimer_add(c->timer, &tv);
    }
    run_advance(run);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    rb_conn_t *c = arg;
    rb_run_t *run = c->run;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in), off = 0;
    const char *p = (const char *)evbuffer_pullup(in, -1);
    uint64_t now = now_ns();
    while (off < len && run->phase != PHASE_DONE) {
        reply_t r;
        ssize_t n = reply_parse(p + off, len - off, &r);
        if (n == 0)
            break;
        if (n < 0 || c->count == 0) {
            evbuffer_drain(in, off);
            conn_drop(c, n < 0 ? "protocol error in a reply" : "a reply nobody asked for");
            return;
        }
        off += (size_t)n;
        handle_reply(c, conn_pop(c), &r, now);
    }
    evbuffer_drain(in, off);
    if (off > 0)
        run->last_progress_ns = now;
    conn_fill(c);
    run_advance(run);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    rb_conn_t *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        evutil_socket_t fd = bufferevent_getfd(bev);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->connected = c->ever_connected = 1;
        c->run->last_progress_ns = now_ns();
        if (c->run->cfg->auth != NULL)
            send_auth(c, now_ns());
        conn_fill(c);
        run_advance(c->run);
        return;
    }
    char why[160];
    SSL *ssl = c->run->ssl != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
    unsigned long ssl_err = ssl != NULL ? bufferevent_get_openssl_error(bev) : 0;
    if (ssl_err != 0 || (ssl != NULL && SSL_get_verify_result(ssl) != X509_V_OK))
        tls_error_string(ssl, ssl_err, why, sizeof(why));
    else if (what & BEV_EVENT_EOF)
        snprintf(why, sizeof(why), "connection closed by the server");
    else
        snprintf(why, sizeof(why), "%s",
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    conn_drop(c, why);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_connect(arg);
}

static void conn_connect(rb_conn_t *c)
{
    rb_run_t *run = c->run;
    if (run->ssl != NULL) {
        SSL *ssl = SSL_new(run->ssl);
        if (ssl == NULL) {
            run_fail(run, "cannot start TLS to %s:%u: %s", "SSL_new failed");
            return;
        }
        if (run->cfg->tls_ca != NULL && tls_peer_name(ssl, run->cfg->host) < 0) {
            SSL_free(ssl);
            run_fail(run, "cannot start TLS to %s:%u: %s", "not a name to verify");
            return;
        }
        c->bev = bufferevent_openssl_socket_new(run->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                BEV_OPT_CLOSE_ON_FREE);
    } else {
        c->bev = bufferevent_socket_new(run->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (c->bev == NULL) {
        run_fail(run, "cannot connect to %s:%u: %s", "out of memory");
        return;
    }
    bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&run->addr, run->addrlen) < 0)
        conn_drop(c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* --- the run's course ---------------------------------------------------- */

static void sweep_start(rb_run_t *run)
{
    run->sweep_cursor = 0;
    run->sweeping = run->sweep_active = 1;
    run_fill_all(run);
}

static void run_advance(rb_run_t *run)
{
    const rb_config_t *cfg = run->cfg;
    if (run->phase == PHASE_LOAD && cfg->duration == 0 && run->issued >= cfg->requests)
        run->phase = PHASE_DRAIN;
    if (run->phase == PHASE_DRAIN && run->outstanding == 0) {
        run->load_end_ns = now_ns();
        if (run->res->verify == NULL) {
            run->phase = PHASE_DONE;
        } else {
            run->phase = PHASE_SWEEP;
            sweep_start(run);
        }
    }
    if (run->phase == PHASE_SWEEP) {
        sweep_finish(run);
        if (!run->sweep_active)
            run->phase = PHASE_DONE;
    }
    if (run->phase == PHASE_DONE)
        event_base_loopbreak(run->base);
}

/* Stops the workload: what is in flight still completes. */
static void run_stop(rb_run_t *run)
{
    if (run->phase != PHASE_LOAD)
        return;
    run->phase = PHASE_DRAIN;
    run_advance(run);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    run_stop(arg);
}

static void pace_cb(evutil_socket_t fd, short what, void *arg)
{
    run_fill_all(arg);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    rb_run_t *run = arg;
    const rb_config_t *cfg = run->cfg;
    rb_result_t *res = run->res;
    uint64_t now = now_ns();
    double t = since_start(run, now);
    if (cfg->progress) {
        uint64_t errs = res->errors[0] + res->errors[1] + res->errors[2];
        fprintf(stderr, "\r%5.0f s  %10llu ops/s  %llu errors   ", t,
                (unsigned long long)(res->requests - run->last_tick_requests),
                (unsigned long long)errs);
        run->last_tick_requests = res->requests;
    }
    int waiting = run->outstanding > 0;
    for (uint32_t i = 0; i < cfg->conns && !waiting; i++)
        waiting = !run->conns[i].connected;
    if (waiting && (double)(now - run->last_progress_ns) / 1e9 >= RB_STALL_SECONDS) {
        run_fail(run, "no reply from %s:%u for %s seconds, giving up", "10");
        return;
    }
    if (t >= RB_MAX_SECONDS)
        run_stop(run);
}

/* --verify-every: a read-back during the load, unless one is under way. */
static void sweep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    rb_run_t *run = arg;
    if (run->phase == PHASE_LOAD && !run->sweep_active)
        sweep_start(run);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    rb_run_t *run = arg;
    if (run->phase == PHASE_LOAD)
        run_stop(run);
    else
        run_fail(run, "interrupted while talking to %s:%u%s", "");
}

/* --- setting up and tearing down ----------------------------------------- */

static int run_resolve(rb_run_t *run)
{
    struct evutil_addrinfo hints, *ai = NULL;
    char port[8];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", run->cfg->port);
    int rc = evutil_getaddrinfo(run->cfg->host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(run->err, RB_ERRLEN, "cannot resolve %s: %s", run->cfg->host,
                 evutil_gai_strerror(rc));
        return -1;
    }
    memcpy(&run->addr, ai->ai_addr, ai->ai_addrlen);
    run->addrlen = (int)ai->ai_addrlen;
    evutil_freeaddrinfo(ai);
    return 0;
}

static struct timeval seconds_tv(double s)
{
    struct timeval tv = {(time_t)s, (suseconds_t)((s - floor(s)) * 1e6)};
    return tv;
}

static int run_setup(rb_run_t *run)
{
    const rb_config_t *cfg = run->cfg;
    rb_result_t *res = run->res;
    char kerr[KEYSPACE_ERRLEN];
    if (run_resolve(run) < 0)
        return -1;
    run->ks = keyspace_new(cfg->keyspace, cfg->dist, cfg->seed, kerr);
    if (run->ks == NULL) {
        snprintf(run->err, RB_ERRLEN, "%s", kerr);
        return -1;
    }
    run->value = malloc(cfg->value_size);
    run->vbuf_cap = cfg->value_size + 64;
    run->vbuf = malloc(run->vbuf_cap);
    run->conns = calloc(cfg->conns, sizeof(*run->conns));
    run->base = event_base_new();
    if (run->value == NULL || run->vbuf == NULL || run->conns == NULL || run->base == NULL) {
        snprintf(run->err, RB_ERRLEN, "out of memory");
        return -1;
    }
    memset(run->value, 'x', cfg->value_size);
    if (cfg->tls) {
        run->ssl = SSL_CTX_new(TLS_client_method());
        if (run->ssl == NULL) {
            snprintf(run->err, RB_ERRLEN, "cannot make a TLS context");
            return -1;
        }
        if (cfg->tls_ca != NULL) {
            if (SSL_CTX_load_verify_locations(run->ssl, cfg->tls_ca, NULL) != 1) {
                snprintf(run->err, RB_ERRLEN, "--tls-ca %.400s: cannot load the CA certificates",
                         cfg->tls_ca);
                return -1;
            }
            SSL_CTX_set_verify(run->ssl, SSL_VERIFY_PEER, NULL);
        } else {
            /* a load tool: without --tls-ca nothing is checked (--help says so) */
            SSL_CTX_set_verify(run->ssl, SSL_VERIFY_NONE, NULL);
        }
        if (cfg->tls_cert != NULL &&
            (SSL_CTX_use_certificate_chain_file(run->ssl, cfg->tls_cert) != 1 ||
             SSL_CTX_use_PrivateKey_file(run->ssl, cfg->tls_key, SSL_FILETYPE_PEM) != 1)) {
            snprintf(run->err, RB_ERRLEN, "--tls-cert %.200s / --tls-key %.200s: cannot load them",
                     cfg->tls_cert, cfg->tls_key);
            return -1;
        }
    }
    if (cfg->per_pnode != NULL) {
        char rerr[RING_ERRLEN];
        if (ring_load(cfg->per_pnode, &res->ring, rerr) < 0) {
            snprintf(run->err, RB_ERRLEN, "--per-pnode: %.480s", rerr);
            return -1;
        }
        size_t n = ring_pnode_count(res->ring);
        res->pnode_requests = calloc(n, sizeof(uint64_t));
        res->pnode_errors = calloc(n, sizeof(uint64_t));
        if (res->pnode_requests == NULL || res->pnode_errors == NULL) {
            snprintf(run->err, RB_ERRLEN, "out of memory");
            return -1;
        }
    }
    run->tick = event_new(run->base, -1, EV_PERSIST, tick_cb, run);
    run->sigint = evsignal_new(run->base, SIGINT, signal_cb, run);
    run->sigterm = evsignal_new(run->base, SIGTERM, signal_cb, run);
    struct timeval sec = {1, 0};
    if (run->tick == NULL || run->sigint == NULL || run->sigterm == NULL ||
        event_add(run->tick, &sec) < 0 || event_add(run->sigint, NULL) < 0 ||
        event_add(run->sigterm, NULL) < 0) {
        snprintf(run->err, RB_ERRLEN, "cannot set up timers");
        return -1;
    }
    if (cfg->duration > 0) {
        struct timeval tv = seconds_tv(cfg->duration);
        run->stop_timer = evtimer_new(run->base, stop_cb, run);
        if (run->stop_timer == NULL || evtimer_add(run->stop_timer, &tv) < 0) {
            snprintf(run->err, RB_ERRLEN, "cannot set up timers");
            return -1;
        }
    }
    if (cfg->verify_every > 0) {
        struct timeval tv = seconds_tv(cfg->verify_every);
        run->sweep_timer = event_new(run->base, -1, EV_PERSIST, sweep_timer_cb, run);
        if (run->sweep_timer == NULL || event_add(run->sweep_timer, &tv) < 0) {
            snprintf(run->err, RB_ERRLEN, "cannot set up timers");
            return -1;
        }
    }
    if (cfg->rate > 0) {
        struct timeval ms = {0, 1000};
        run->pace = event_new(run->base, -1, EV_PERSIST, pace_cb, run);
        if (run->pace == NULL || event_add(run->pace, &ms) < 0) {
            snprintf(run->err, RB_ERRLEN, "cannot set up timers");
            return -1;
        }
    }
    for (uint32_t i = 0; i < cfg->conns; i++) {
        rb_conn_t *c = &run->conns[i];
        c->run = run;
        c->cap = cfg->pipeline + 1;
        c->q = malloc(c->cap * sizeof(*c->q));
        c->timer = evtimer_new(run->base, conn_timer_cb, c);
        if (c->q == NULL || c->timer == NULL) {
            snprintf(run->err, RB_ERRLEN, "out of memory");
            return -1;
        }
    }
    return 0;
}

static void run_teardown(rb_run_t *run)
{
    if (run->conns != NULL) {
        for (uint32_t i = 0; i < run->cfg->conns; i++) {
            rb_conn_t *c = &run->conns[i];
            if (c->bev != NULL)
                bufferevent_free(c->bev);
            if (c->timer != NULL)
                event_free(c->timer);
            free(c->q);
        }
        free(run->conns);
    }
    struct event *evs[] = {run->tick, run->pace, run->stop_timer, run->sweep_timer,
                           run->sigint, run->sigterm};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (run->base != NULL)
        event_base_free(run->base);
    if (run->ssl != NULL)
        SSL_CTX_free(run->ssl);
    keyspace_free(run->ks);
    free(run->retries);
    free(run->value);
    free(run->vbuf);
}

int rb_run(const rb_config_t *cfg, rb_result_t *res, char *err)
{
    rb_run_t run;
    memset(&run, 0, sizeof(run));
    memset(res, 0, sizeof(*res));
    run.cfg = cfg;
    run.res = res;
    run.err = err;
    res->latency = histogram_new();
    if (res->latency == NULL) {
        snprintf(err, RB_ERRLEN, "out of memory");
        return -1;
    }
    if (cfg->check_only != NULL) {
        char verr[VERIFY_ERRLEN];
        res->verify = verify_load(cfg->check_only, verr);
        if (res->verify == NULL) {
            snprintf(err, RB_ERRLEN, "%s", verr);
            return -1;
        }
    } else if (cfg->verify) {
        res->verify = verify_new(cfg->keyspace);
        if (res->verify == NULL) {
            snprintf(err, RB_ERRLEN, "out of memory for --verify over %u keys", cfg->keyspace);
            return -1;
        }
    }
    int rc = run_setup(&run);
    if (rc == 0) {
        res->started = 1;
        run.start_ns = run.last_progress_ns = now_ns();
        /* --check-only has no workload: straight to the read-back */
        run.phase = cfg->check_only != NULL ? PHASE_DRAIN : PHASE_LOAD;
        for (uint32_t i = 0; i < cfg->conns && !run.failed; i++)
            conn_connect(&run.conns[i]);
        if (!run.failed && run.phase == PHASE_DRAIN)
            run_advance(&run);
        if (!run.failed && run.phase != PHASE_DONE)
            event_base_dispatch(run.base);
        if (run.load_end_ns == 0)
            run.load_end_ns = now_ns();
        res->elapsed = (double)(run.load_end_ns - run.start_ns) / 1e9;
        if (cfg->progress)
            fprintf(stderr, "\r%60s\r", "");
        rc = run.failed ? -1 : 0;
    }
    if (rc == 0 && cfg->keep_state != NULL) {
        char verr[VERIFY_ERRLEN];
        if (verify_save(res->verify, cfg->keep_state, verr) < 0) {
            snprintf(err, RB_ERRLEN, "%s", verr);
            rc = -1;
        }
    }
    run_teardown(&run);
    return rc;
}

void rb_result_free(rb_result_t *res)
{
    histogram_free(res->latency);
    verify_free(res->verify);
    if (res->ring != NULL)
        ring_free(res->ring);
    free(res->pnode_requests);
    free(res->pnode_errors);
    memset(res, 0, sizeof(*res));
}
