/*
 * main.c - ringproxy: arguments, the ring, worker threads, signals.
 * The main thread runs its own small event loop for signals and the admin
 * endpoint; reloads run on a thread of their own (reloader.c).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "proxy.h"
#include "ring.h"
#include "ringref.h"
#include "stats.h"
#include "worker.h"

#define MAIN_SHUTDOWN_MS 5000


static void usage(FILE *f)
{
    fprintf(f,
            "usage: ringproxy -r RINGDIR -l HOST:PORT [-t THREADS] [-c CONFIG]\n"
            "                 [--pidfile FILE] [--log-level LEVEL] [--admin HOST:PORT] [--check]\n"
            "  -r, --ring DIR       ring image directory (node-fash LevelDB layout)\n"
            "  -l, --listen ADDR    client listener, e.g. 127.0.0.1:6380\n"
            "  -t, --threads N      worker threads (default: number of cores)\n"
            "  -c, --config FILE    config file (see etc/ringproxy.conf); flags override it\n"
            "      --pidfile FILE   write the pid there while running\n"
            "      --log-level L    debug, info, warn or error\n"
            "      --admin ADDR     admin HTTP endpoint\n"
            "      --check          validate the ring and config, print a summary, exit\n");
}

static void main_summary(const config_t *cfg, const ring_t *r)
{
    printf("ring %s: ok\n", cfg->ring);
    printf("generation: %llu\n", (unsigned long long)ring_generation(r));
    printf("algorithm: %s\n", ring_algo_name(ring_algo(r)));
    printf("vnodes: %u\n", ring_vnode_count(r));
    printf("pnodes: %zu\n", ring_pnode_count(r));
    for (size_t i = 0; i < ring_pnode_count(r); i++)
        printf("  %s vnodes=%u\n", ring_pnode_name(r, i), ring_pnode_vnode_count(r, i));
    printf("ro_vnodes: %zu\n", ring_ro_count(r));
    printf("config: ok listen=%s threads=%d\n", cfg->listen, cfg->threads);
}

static void main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    proxy_t *p = arg;
    if (sig == SIGHUP) {
        reloader_request(p->reloader, NULL, NULL);
        return;
    }
    log_info("shutting down signal=%s", sig == SIGTERM ? "TERM" : "INT");
    event_base_loopbreak(p->base);
}

static int main_pidfile(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "cannot write pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

enum { OPT_PIDFILE = 256, OPT_LOG_LEVEL, OPT_ADMIN, OPT_CHECK };

static int main_args(int argc, char **argv, proxy_t *p, int *check, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        { "ring", required_argument, NULL, 'r' },
        { "listen", required_argument, NULL, 'l' },
        { "threads", required_argument, NULL, 't' },
        { "config", required_argument, NULL, 'c' },
        { "pidfile", required_argument, NULL, OPT_PIDFILE },
        { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
        { "admin", required_argument, NULL, OPT_ADMIN },
        { "check", no_argument, NULL, OPT_CHECK },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* The file is read first so that flags override it; the flags are
     * kept to override it again at each reload. */
    config_t *cfg = &p->cfg;
    const char **names = calloc((size_t)argc + 1, sizeof(*names));
    const char **values = calloc((size_t)argc + 1, sizeof(*values));
    int n = 0, opt;
    const char *config_path = NULL;
    char sub[CONFIG_ERRLEN];

    p->override_names = names;
    p->override_values = values;
    if (names == NULL || values == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":r:l:t:c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': names[n] = "ring"; values[n++] = optarg; break;
        case 'l': names[n] = "listen"; values[n++] = optarg; break;
        case 't': names[n] = "threads"; values[n++] = optarg; break;
        case 'c': config_path = optarg; break;
        case OPT_PIDFILE: names[n] = "pidfile"; values[n++] = optarg; break;
        case OPT_LOG_LEVEL: names[n] = "log-level"; values[n++] = optarg; break;
        case OPT_ADMIN: names[n] = "admin"; values[n++] = optarg; break;
        case OPT_CHECK: *check = 1; break;
        case 'h': usage(stdout); return 1;
        case ':':
            snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
            return -1;
        default:
            snprintf(err, errlen, "unknown option %s (try --help)", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (try --help)", argv[optind]);
        return -1;
    }
    p->config_path = config_path;
    p->noverrides = n;
    if (config_path != NULL && config_load(cfg, config_path, err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (config_set(cfg, names[i], values[i], sub) < 0) {
            snprintf(err, errlen, "%s", sub);
            return -1;
        }
    }
    return config_validate(cfg, err);
}

/* The TLS listener takes the plain listener's host. */
static int main_listen(const config_t *cfg, worker_listen_t *ln, char *err, size_t errlen)
{
    memset(ln, 0, sizeof(*ln));
    ln->addrlen = sizeof(ln->addr);
    if (evutil_parse_sockaddr_port(cfg->listen, (struct sockaddr *)&ln->addr, &ln->addrlen) < 0) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT", cfg->listen);
        return -1;
    }
    if (cfg->tls_port == 0)
        return 0;
    memcpy(&ln->tls_addr, &ln->addr, sizeof(ln->addr));
    ln->tls_addrlen = ln->addrlen;
    in_port_t port = htons((in_port_t)cfg->tls_port), *plain;
    if (ln->addr.ss_family == AF_INET6) {
        plain = &((struct sockaddr_in6 *)&ln->addr)->sin6_port;
        ((struct sockaddr_in6 *)&ln->tls_addr)->sin6_port = port;
    } else {
        plain = &((struct sockaddr_in *)&ln->addr)->sin_port;
        ((struct sockaddr_in *)&ln->tls_addr)->sin_port = port;
    }
    /* With SO_REUSEPORT both would bind and share the clients. */
    if (*plain == port) {
        snprintf(err, errlen, "tls-port %d is the listen port too", cfg->tls_port);
        return -1;
    }
    return 0;
}

static int main_run(proxy_t *p, ring_t *ring, char *err, size_t errlen)
{
    config_t *cfg = &p->cfg;
    worker_listen_t ln;
    sigset_t sigs;
    struct event *sev[3] = { NULL, NULL, NULL };
    int rc = -1;

    if (main_listen(cfg, &ln, err, errlen) < 0) {
        ring_free(ring);
        return -1;
    }
    if ((p->tls = tls_new(cfg, err, errlen)) == NULL) {
        ring_free(ring);
        return -1;
    }
    if (evthread_use_pthreads() < 0 || ringref_publish(ring) < 0) {
        snprintf(err, errlen, "cannot initialize threads");
        ring_free(ring);
        return -1;
    }
    p->nworkers = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (p->nworkers < 1)
        p->nworkers = 1;
    p->workers = calloc((size_t)p->nworkers, sizeof(*p->workers));
    stats_init(p->nworkers);
    p->base = event_base_new();
    if (p->workers == NULL || p->base == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < p->nworkers; i++) {
        p->workers[i] = worker_new(i, cfg, p->tls, &ln, err, errlen);
        if (p->workers[i] == NULL)
            return -1;
    }
    if (cfg->admin != NULL && cfg->admin[0] != '\0') {
        /* The proxy serves without its admin endpoint rather than not at
         * all (another instance may hold the default port). */
        char aerr[256];
        p->admin = admin_new(p, cfg->admin, aerr, sizeof(aerr));
        if (p->admin == NULL)
            log_warn("admin endpoint off reason=\"%s\"", aerr);
    }
    if (cfg->pidfile != NULL && cfg->pidfile[0] != '\0' && main_pidfile(cfg->pidfile, err, errlen) < 0)
        return -1;

    /* Workers inherit a mask blocking these, so only this thread gets them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int started = 0;
    p->reloader = reloader_start(p);
    if (p->reloader == NULL) {
        snprintf(err, errlen, "cannot start the reload thread");
        started = -1;
    }
    for (; started >= 0 && started < p->nworkers; started++) {
        if (worker_start(p->workers[started]) < 0) {
            snprintf(err, errlen, "cannot start worker thread %d", started);
            break;
        }
    }
    const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
    for (int i = 0; i < 3; i++) {
        sev[i] = evsignal_new(p->base, signums[i], main_signal_cb, p);
        if (sev[i] != NULL)
            evsignal_add(sev[i], NULL);
    }
    /* Unblocked whatever the mask we started with: main() blocked SIGHUP,
     * and a parent may have too. A SIGHUP held since then reloads now. */
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    if (started == p->nworkers) {
        log_info("ringproxy started listen=%s tls_port=%d threads=%d ring=%s generation=%llu",
                 cfg->listen, cfg->tls_port, p->nworkers, cfg->ring,
                 (unsigned long long)ring_generation(ring));
        event_base_dispatch(p->base);
        rc = 0;
    }
    reloader_stop(p->reloader);
    p->reloader = NULL;
    for (int i = 0; i < started; i++)
        worker_stop(p->workers[i], MAIN_SHUTDOWN_MS);
    for (int i = 0; i < started; i++)
        worker_join(p->workers[i]);
    for (int i = 0; i < 3; i++) {
        if (sev[i] != NULL)
            event_free(sev[i]);
    }
    admin_free(p->admin);
    p->admin = NULL;
    if (cfg->pidfile != NULL && cfg->pidfile[0] != '\0')
        unlink(cfg->pidfile);
    return rc;
}

int main(int argc, char **argv)
{
    proxy_t p;
    char err[PROXY_ERRLEN];
    int check = 0, rc;
    ring_t *ring = NULL;
    sigset_t hup;

    /* SIGHUP's default action ends the process: until main_run's handler
     * takes it, it is held (threads started meanwhile inherit the block),
     * so a reload asked for during startup neither kills nor is lost. */
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);
    memset(&p, 0, sizeof(p));
    config_init(&p.cfg);
    rc = main_args(argc, argv, &p, &check, err, sizeof(err));
    if (rc != 0) {
        config_free(&p.cfg);
        free(p.override_names);
        free(p.override_values);
        if (rc > 0)
            return 0;
        fprintf(stderr, "ringproxy: %s\n", err);
        return 2;
    }
    log_set_level(p.cfg.log_level);
    if (p.cfg.syslog && !check)
        log_use_syslog(1);
    signal(SIGPIPE, SIG_IGN);

    char sub[RING_ERRLEN];
    if (proxy_load_ring(p.cfg.ring, &ring, sub, sizeof(sub)) < 0) {
        snprintf(err, sizeof(err), "ring %s: %s", p.cfg.ring, sub);
        rc = 1;
    } else if (proxy_check_ring(NULL, ring, err, sizeof(err)) < 0) {
        rc = 1;
    } else if (check) {
        main_summary(&p.cfg, ring);
    } else {
        rc = main_run(&p, ring, err, sizeof(err)) < 0 ? 1 : 0;
        ring = NULL; /* published: ringref owns it */
    }
    if (check || rc != 0)
        ring_free(ring);
    for (int i = 0; i < p.nworkers; i++)
        worker_free(p.workers[i]);
    free(p.workers);
    admin_free(p.admin);
    tls_free(p.tls);
    if (p.base != NULL)
        event_base_free(p.base);
    ringref_shutdown();
    stats_free();
    config_free(&p.cfg);
    free(p.override_names);
    free(p.override_values);
    log_use_syslog(0);
    if (rc != 0) {
        fprintf(stderr, "ringproxy: %s\n", err);
        return 1;
    }
    if (!check)
        log_info("ringproxy stopped");
    return 0;
}
