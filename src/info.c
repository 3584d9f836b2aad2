/*
 * info.c - INFO's sections, in Redis's order and "key:value" form: the
 * proxy's own (what clients read at connect: loading, role) and, when a
 * section needs them, the pnodes' merged. Those sections send INFO to
 * every pnode with multikey's fan-out: redis_version is the oldest
 * pnode's, used_memory and the db0 keyspace are summed, and the pnodes
 * section has a line per pnode. A pnode that does not answer is marked
 * down there and left out of the sums; when none answers redis_version is
 * the version ringproxy is tested against.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "clientcmd.h"
#include "info.h"
#include "multikey.h"
#include "proxycmd.h"
#include "resp3.h"
#include "ring.h"
#include "worker.h"

/* Redis 7.0.15: what the proxy's replies are compared against. */
#define INFO_REDIS_VERSION "7.0.15"

enum {
    INFO_SERVER = 1 << 0,
    INFO_CLIENTS = 1 << 1,
    INFO_MEMORY = 1 << 2,
    INFO_PERSISTENCE = 1 << 3,
    INFO_STATS = 1 << 4,
    INFO_REPLICATION = 1 << 5,
    INFO_CLUSTER = 1 << 6,
    INFO_KEYSPACE = 1 << 7,
    INFO_PNODES = 1 << 8,
    INFO_ALL = (1 << 9) - 1,
    INFO_FROM_PNODES = INFO_SERVER | INFO_MEMORY | INFO_KEYSPACE | INFO_PNODES,
};

/* What the merge needs of the request, kept from when it was made (the
 * client may be gone and the ring swapped by the time the replies are in). */
typedef struct info_ask {
    unsigned want;
    unsigned port;     /* the port the client connected to */
    int proto;         /* the client's RESP version */
    size_t npnodes;
    char **names;
    uint32_t *vnodes;
} info_ask_t;

/* One pnode's INFO, as far as the merge uses it. */
typedef struct info_pnode {
    int up;            /* it answered INFO */
    char version[32];
    unsigned long long used_memory, keys, expires, avg_ttl;
} info_pnode_t;

static const struct {
    const char *name;
    unsigned bit;
} info_sections[] = {
    {"server", INFO_SERVER},   {"clients", INFO_CLIENTS},         {"memory", INFO_MEMORY},
    {"persistence", INFO_PERSISTENCE},
    {"stats", INFO_STATS},     {"replication", INFO_REPLICATION}, {"cluster", INFO_CLUSTER},
    {"keyspace", INFO_KEYSPACE}, {"pnodes", INFO_PNODES},         {"default", INFO_ALL},
    {"all", INFO_ALL},         {"everything", INFO_ALL},
};

static struct timeval info_started;

/* Uptime counts from process start, before any worker exists. */
__attribute__((constructor)) static void info_start(void)
{
    gettimeofday(&info_started, NULL);
}

static unsigned info_wanted(const char *base, const resp_arg_t *args, size_t argc)
{
    unsigned want = argc < 2 ? INFO_ALL : 0;
    for (size_t i = 1; i < argc; i++) {
        for (size_t j = 0; j < sizeof(info_sections) / sizeof(info_sections[0]); j++) {
            if (proxycmd_is(base + args[i].off, args[i].len, info_sections[j].name))
                want |= info_sections[j].bit;
        }
    }
    return want;
}

static void info_header(struct evbuffer *out, const char *title)
{
    if (evbuffer_get_length(out) > 0)
        evbuffer_add(out, "\r\n", 2);
    evbuffer_add_printf(out, "# %s\r\n", title);
}

static unsigned info_local_port(const client_t *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(c->conn->fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static void info_server(struct evbuffer *out, const worker_t *w, const info_ask_t *ask,
                        const char *version)
{
    struct utsname un;
    struct timeval now;
    if (uname(&un) < 0)
        memset(&un, 0, sizeof(un));
    gettimeofday(&now, NULL);
    long long up = (long long)(now.tv_sec - info_started.tv_sec);
    info_header(out, "Server");
    evbuffer_add_printf(out,
                        "redis_version:%s\r\nringproxy_version:%s\r\nredis_mode:standalone\r\n"
                        "os:%s %s %s\r\narch_bits:%d\r\nmultiplexing_api:%s\r\n"
                        "process_id:%ld\r\ntcp_port:%u\r\nserver_time_usec:%lld\r\n"
                        "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n"
                        "executable:ringproxy\r\n",
                        version, RINGPROXY_VERSION, un.sysname, un.release, un.machine,
                        (int)(sizeof(void *) * 8), event_base_get_method(w->base),
                        (long)getpid(), ask->port,
                        (long long)now.tv_sec * 1000000 + now.tv_usec, up, up / 86400);
}

static void info_stats(struct evbuffer *out, const worker_t *w)
{
    uint64_t commands = 0;
    for (int i = 0; i < STATS_CLASSES; i++)
        commands += STAT_GET(w->stats.req[i]);
    info_header(out, "Stats");
    evbuffer_add_printf(out,
                        "total_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
                        "rejected_connections:%llu\r\nworker_thread:%d\r\n",
                        (unsigned long long)clientcmd_accepted(), (unsigned long long)commands,
                        (unsigned long long)STAT_GET(w->stats.clients_rejected), w->id);
}

/* The value of "key:" in INFO text, up to its CRLF, into out. */
static int info_field(const char *text, size_t len, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen < len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, key, klen) == 0) {
            size_t j = i + klen, n = 0;
            while (j < len && text[j] != '\r' && text[j] != '\n' && n + 1 < cap)
                out[n++] = text[j++];
            out[n] = '\0';
            return 0;
        }
    }
    return -1;
}

static void info_parse(request_t *part, info_pnode_t *pn)
{
    size_t len = evbuffer_get_length(part->reply);
    const char *s = (const char *)evbuffer_pullup(part->reply, -1);
    char v[64];
    memset(pn, 0, sizeof(*pn));
    const char *nl = len > 0 && s[0] == '$' ? memchr(s, '\n', len) : NULL;
    if (nl == NULL)
        return;
    const char *text = nl + 1;
    size_t tlen = len - (size_t)(text - s);
    if (info_field(text, tlen, "redis_version:", pn->version, sizeof(pn->version)) < 0)
        return;
    pn->up = 1;
    if (info_field(text, tlen, "used_memory:", v, sizeof(v)) == 0)
        pn->used_memory = strtoull(v, NULL, 10);
    if (info_field(text, tlen, "db0:", v, sizeof(v)) == 0 &&
        sscanf(v, "keys=%llu,expires=%llu,avg_ttl=%llu", &pn->keys, &pn->expires,
               &pn->avg_ttl) != 3)
        pn->keys = pn->expires = pn->avg_ttl = 0;
}

/* 1 when version a is older than b (major.minor.patch). */
static int info_older(const char *a, const char *b)
{
    unsigned x[3] = {0, 0, 0}, y[3] = {0, 0, 0};
    sscanf(a, "%u.%u.%u", &x[0], &x[1], &x[2]);
    sscanf(b, "%u.%u.%u", &y[0], &y[1], &y[2]);
    for (int i = 0; i < 3; i++) {
        if (x[i] != y[i])
            return x[i] < y[i];
    }
    return 0;
}

static void info_pnodes(struct evbuffer *out, const worker_t *w, const info_ask_t *ask,
                        const info_pnode_t *pn, size_t n)
{
    info_header(out, "Pnodes");
    evbuffer_add_printf(out, "ring_generation:%llu\r\npnodes:%zu\r\n",
                        (unsigned long long)ring_generation(w->rr->ring), ask->npnodes);
    for (size_t i = 0; i < n; i++) {
        evbuffer_add_printf(out, "pnode%zu:name=%s,vnodes=%u,status=%s", i, ask->names[i],
                            ask->vnodes[i], pn[i].up ? "up" : "down");
        if (pn[i].up)
            evbuffer_add_printf(out, ",redis_version=%s,used_memory=%llu,keys=%llu,"
                                     "expires=%llu", pn[i].version, pn[i].used_memory,
                                pn[i].keys, pn[i].expires);
        evbuffer_add(out, "\r\n", 2);
    }
}

static void info_build(struct evbuffer *out, const worker_t *w, const info_ask_t *ask,
                       const info_pnode_t *pn, size_t n)
{
    const char *version = NULL;
    unsigned long long mem = 0, keys = 0, expires = 0, ttl_sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pn[i].up)
            continue;
        if (version == NULL || info_older(pn[i].version, version))
            version = pn[i].version;
        mem += pn[i].used_memory;
        keys += pn[i].keys;
        expires += pn[i].expires;
        ttl_sum += pn[i].avg_ttl * pn[i].expires;
    }
    unsigned want = ask->want;
    if (want & INFO_SERVER)
        info_server(out, w, ask, version != NULL ? version : INFO_REDIS_VERSION);
    if (want & INFO_CLIENTS) {
        info_header(out, "Clients");
        evbuffer_add_printf(out, "connected_clients:%llu\r\nblocked_clients:0\r\n",
                            (unsigned long long)clientcmd_connected());
    }
    if (want & INFO_MEMORY) {
        info_header(out, "Memory");
        evbuffer_add_printf(out, "used_memory:%llu\r\n", mem);
    }
    if (want & INFO_PERSISTENCE) {
        info_header(out, "Persistence");
        evbuffer_add_printf(out, "loading:0\r\nasync_loading:0\r\nrdb_bgsave_in_progress:0\r\n"
                                 "aof_enabled:0\r\naof_rewrite_in_progress:0\r\n");
    }
    if (want & INFO_STATS)
        info_stats(out, w);
    if (want & INFO_REPLICATION) {
        info_header(out, "Replication");
        evbuffer_add_printf(out, "role:master\r\nconnected_slaves:0\r\n");
    }
    if (want & INFO_CLUSTER) {
        info_header(out, "Cluster");
        evbuffer_add_printf(out, "cluster_enabled:0\r\n");
    }
    if (want & INFO_KEYSPACE) {
        info_header(out, "Keyspace");
        if (keys > 0)
            evbuffer_add_printf(out, "db0:keys=%llu,expires=%llu,avg_ttl=%llu\r\n", keys,
                                expires, expires > 0 ? ttl_sum / expires : 0);
    }
    if (want & INFO_PNODES)
        info_pnodes(out, w, ask, pn, n);
}

static void info_ask_free(void *arg)
{
    info_ask_t *ask = arg;
    for (size_t i = 0; ask->names != NULL && i < ask->npnodes; i++)
        free(ask->names[i]);
    free(ask->names);
    free(ask->vnodes);
    free(ask);
}

/* The reply, from the pnodes' INFO replies (none when no section needs
 * them). */
static void info_merge(request_t *r, request_t *const *parts, size_t nparts, void *arg)
{
    info_ask_t *ask = arg;
    info_pnode_t *pn = nparts > 0 ? calloc(nparts, sizeof(*pn)) : NULL;
    struct evbuffer *out = evbuffer_new();
    if ((nparts > 0 && pn == NULL) || out == NULL) {
        evbuffer_add_printf(r->reply, "-ERR out of memory\r\n");
    } else {
        for (size_t i = 0; i < nparts; i++)
            info_parse(parts[i], &pn[i]);
        info_build(out, r->worker, ask, pn, nparts < ask->npnodes ? nparts : ask->npnodes);
        resp3_verbatim_buffer(r->reply, ask->proto, out);
    }
    if (out != NULL)
        evbuffer_free(out);
    free(pn);
}

static info_ask_t *info_ask_new(const client_t *c, unsigned want)
{
    const ring_t *ring = c->worker->rr->ring;
    info_ask_t *ask = calloc(1, sizeof(*ask));
    if (ask == NULL)
        return NULL;
    ask->want = want;
    ask->proto = c->proto;
    ask->port = info_local_port(c);
    if (!(want & INFO_FROM_PNODES))
        return ask;
    ask->npnodes = ring_pnode_count(ring);
    ask->names = calloc(ask->npnodes, sizeof(*ask->names));
    ask->vnodes = calloc(ask->npnodes, sizeof(*ask->vnodes));
    if (ask->names == NULL || ask->vnodes == NULL) {
        info_ask_free(ask);
        return NULL;
    }
    for (size_t i = 0; i < ask->npnodes; i++) {
        ask->names[i] = strdup(ring_pnode_name(ring, i));
        ask->vnodes[i] = ring_pnode_vnode_count(ring, i);
        if (ask->names[i] == NULL) {
            info_ask_free(ask);
            return NULL;
        }
    }
    return ask;
}

#define INFO_PNODE_REQUEST "*1\r\n$4\r\nINFO\r\n"

void info_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                 size_t argc)
{
    info_ask_t *ask = info_ask_new(c, info_wanted(base, args, argc));
    if (ask == NULL) {
        request_error(r, "ERR out of memory");
        return;
    }
    if (!(ask->want & INFO_FROM_PNODES)) {
        info_merge(r, NULL, 0, ask);
        info_ask_free(ask);
        request_done(r);
        return;
    }
    if (multikey_fanout(c->worker, r, INFO_PNODE_REQUEST, sizeof(INFO_PNODE_REQUEST) - 1,
                        info_merge, ask, info_ask_free) < 0) {
        info_ask_free(ask);
        request_error(r, "ERR out of memory");
    }
}
