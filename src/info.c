/*
 * info.c - INFO's sections, in Redis's order and "key:value" form, for the
 * proxy itself: what clients read at connect (redis_version, loading,
 * role) and the pnodes this worker routes to. The pnodes' own INFO is not
 * asked for, so redis_version is the version ringproxy is tested against,
 * keyspace is empty and there is no memory section.
 */
#include <stdio.h>
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
#include "proxycmd.h"
#include "ring.h"
#include "worker.h"

/* Redis 7.0.15: what the proxy's replies are compared against. */
#define INFO_REDIS_VERSION "7.0.15"

enum {
    INFO_SERVER = 1 << 0,
    INFO_CLIENTS = 1 << 1,
    INFO_PERSISTENCE = 1 << 2,
    INFO_STATS = 1 << 3,
    INFO_REPLICATION = 1 << 4,
    INFO_CLUSTER = 1 << 5,
    INFO_KEYSPACE = 1 << 6,
    INFO_PNODES = 1 << 7,
    INFO_ALL = (1 << 8) - 1,
};

static const struct {
    const char *name;
    unsigned bit;
} info_sections[] = {
    {"server", INFO_SERVER},   {"clients", INFO_CLIENTS},         {"persistence", INFO_PERSISTENCE},
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

static void info_server(struct evbuffer *out, const client_t *c)
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
                        INFO_REDIS_VERSION, RINGPROXY_VERSION, un.sysname, un.release, un.machine,
                        (int)(sizeof(void *) * 8), event_base_get_method(c->worker->base),
                        (long)getpid(), info_local_port(c),
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

/* One line per pnode of the ring in force: its address, the vnodes it
 * owns and this worker's connection to it. */
static void info_pnodes(struct evbuffer *out, const worker_t *w)
{
    const ring_t *ring = w->rr->ring;
    info_header(out, "Pnodes");
    evbuffer_add_printf(out, "ring_generation:%llu\r\npnodes:%zu\r\n",
                        (unsigned long long)ring_generation(ring), ring_pnode_count(ring));
    for (size_t i = 0; i < ring_pnode_count(ring) && i < w->nmap; i++) {
        const server_t *s = w->map[i];
        evbuffer_add_printf(out, "pnode%zu:name=%s,vnodes=%u,status=%s,requests=%llu,"
                                 "errors=%llu,inflight=%zu\r\n",
                            i, ring_pnode_name(ring, i), ring_pnode_vnode_count(ring, i),
                            s->down ? "down" : "up",
                            (unsigned long long)(s->st != NULL ? STAT_GET(s->st->requests) : 0),
                            (unsigned long long)(s->st != NULL ? STAT_GET(s->st->errors) : 0),
                            server_inflight(s));
    }
}

void info_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                 size_t argc)
{
    unsigned want = info_wanted(base, args, argc);
    struct evbuffer *out = evbuffer_new();
    if (out == NULL) {
        request_error(r, "ERR out of memory");
        return;
    }
    if (want & INFO_SERVER)
        info_server(out, c);
    if (want & INFO_CLIENTS) {
        info_header(out, "Clients");
        evbuffer_add_printf(out, "connected_clients:%llu\r\nblocked_clients:0\r\n",
                            (unsigned long long)clientcmd_connected());
    }
    if (want & INFO_PERSISTENCE) {
        info_header(out, "Persistence");
        evbuffer_add_printf(out, "loading:0\r\nasync_loading:0\r\nrdb_bgsave_in_progress:0\r\n"
                                 "aof_enabled:0\r\naof_rewrite_in_progress:0\r\n");
    }
    if (want & INFO_STATS)
        info_stats(out, c->worker);
    if (want & INFO_REPLICATION) {
        info_header(out, "Replication");
        evbuffer_add_printf(out, "role:master\r\nconnected_slaves:0\r\n");
    }
    if (want & INFO_CLUSTER) {
        info_header(out, "Cluster");
        evbuffer_add_printf(out, "cluster_enabled:0\r\n");
    }
    if (want & INFO_KEYSPACE)
        info_header(out, "Keyspace");
    if (want & INFO_PNODES)
        info_pnodes(out, c->worker);
    evbuffer_add_printf(r->reply, "$%zu\r\n", evbuffer_get_length(out));
    evbuffer_add_buffer(r->reply, out);
    evbuffer_add(r->reply, "\r\n", 2);
    evbuffer_free(out);
    request_done(r);
}
