/*
 * main.c - ringproxy: arguments, the ring, worker threads, signals.
 * The main thread runs its own small event loop for signals and the admin
 * endpoint; reloads run on a thread of their own (reloader.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "admin.h"
#include "command.h"
#include "config.h"
#include "log.h"
#include "proxy.h"
#include "ring.h"
#include "ringref.h"
#include "script.h"
#include "stats.h"
#include "worker.h"

#define MAIN_SHUTDOWN_MS 5000
#define MAIN_DEFAULT_CONFIG "/etc/ringproxy/ringproxy.conf"
/* Exit statuses, as --help states them. */
#define MAIN_EXIT_RUNTIME 1
#define MAIN_EXIT_USAGE 2
/* Descriptors beyond the clients': a pnode connection per pnode per worker
 * and backend connection, listeners, the admin endpoint, logs, the ring. */
#define MAIN_FD_RESERVE 64


static void usage(FILE *f)
{
    fprintf(f,
            "usage: ringproxy -r RINGDIR -l HOST:PORT [-t THREADS] [-c CONFIG]\n"
            "                 [--pidfile FILE] [--log-level LEVEL] [--admin HOST:PORT] [--check]\n"
            "  -r, --ring DIR       ring image directory (node-fash LevelDB layout)\n"
            "  -l, --listen ADDR    client listener, e.g. 127.0.0.1:6380\n"
            "  -t, --threads N      worker threads (default: number of cores)\n"
            "  -c, --config FILE    config file (see etc/ringproxy.conf); flags override it;\n"
            "                       default " MAIN_DEFAULT_CONFIG " when that exists\n"
            "      --pidfile FILE   write the pid there while running (locked)\n"
            "      --log-level L    debug, info, warn or error\n"
            "      --admin ADDR     admin HTTP endpoint\n"
            "      --check          validate the ring and config as a start would, without\n"
            "                       binding ports; print a summary, exit\n"
            "  -V, --version        print the version and exit\n"
            "  -h, --help           print this help and exit\n"
            "exit status: 0 ok (or stopped by SIGTERM/SIGINT), 1 the ring cannot be used\n"
            "or the start failed (port in use, pidfile held), 2 usage or config error\n");
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

/* libevent's own warnings (an accept failing on the admin endpoint's
 * listener, which has no error callback) go through log.c, which keeps a
 * message repeated in a loop to one line a second. */
static void main_libevent_log(int severity, const char *msg)
{
    if (severity == EVENT_LOG_DEBUG)
        log_debug("libevent: %s", msg);
    else if (severity == EVENT_LOG_MSG)
        log_info("libevent: %s", msg);
    else if (severity == EVENT_LOG_WARN)
        log_warn("libevent: %s", msg);
    else
        log_error("libevent: %s", msg);
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

/* The pidfile stays open and locked for the process's life: a second
 * instance given the same file refuses to start instead of overwriting it,
 * and only the holder removes it. Returns the locked fd. */
static int main_pidfile_lock(const char *path, char *err, size_t errlen)
{
    char buf[32];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        long pid = strtol(buf, NULL, 10);
        close(fd);
        if (e == EWOULDBLOCK && pid > 0)
            snprintf(err, errlen, "pidfile %s is locked by another ringproxy (pid %ld)", path, pid);
        else if (e == EWOULDBLOCK)
            snprintf(err, errlen, "pidfile %s is locked by another ringproxy", path);
        else
            snprintf(err, errlen, "cannot lock pidfile %s: %s", path, strerror(e));
        return -1;
    }
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write pidfile %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Removes the pidfile only if the path still names the file we locked. */
static void main_pidfile_release(const char *path, int fd)
{
    struct stat a, b;
    if (fd < 0)
        return;
    if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        unlink(path);
    close(fd);
}

enum { OPT_PIDFILE = 256, OPT_LOG_LEVEL, OPT_ADMIN, OPT_CHECK };

/* 1: exit 0 now (--help, --version); -1: usage error in err. */

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
        { "version", no_argument, NULL, 'V' },
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
    while ((opt = getopt_long(argc, argv, ":r:l:t:c:hV", longopts, NULL)) != -1) {
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
        case 'V': printf("ringproxy %s\n", RINGPROXY_VERSION); return 1;
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
    /* The default file is read only when it exists: without it the
     * defaults and flags are the whole config. */
    if (config_path == NULL && access(MAIN_DEFAULT_CONFIG, F_OK) == 0)
        config_path = MAIN_DEFAULT_CONFIG;
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
    if (config_validate(cfg, err) < 0)
        return -1;
    return command_disable_list(cfg->disable_commands, 1, err, errlen);
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
    if (*plain == port) {
        snprintf(err, errlen, "tls-port %d is the listen port too", cfg->tls_port);
        return -1;
    }
    return 0;
}

/* The admin address must resolve as evhttp will resolve it. */
/* What a start needs besides the ring, checked the same way by --check:
 * the addresses, the TLS files, the pidfile's directory. Binds nothing. */
static int main_prepare(proxy_t *p, worker_listen_t *ln, char *err, size_t errlen)
{
    const config_t *cfg = &p->cfg;
    if (main_listen(cfg, ln, err, errlen) < 0)
        return -1;
    if (config_str_set(cfg->admin)) {
        char host[256];
        uint16_t port;
        if (admin_addr_parse(cfg->admin, host, sizeof(host), &port, err, errlen) < 0)
            return -1;
    }
    if ((p->tls = tls_new(cfg, err, errlen)) == NULL)
        return -1;
    if (config_str_set(cfg->pidfile)) {
        char *copy = strdup(cfg->pidfile);
        const char *dir = copy != NULL ? dirname(copy) : ".";
        struct stat st;
        int bad = stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) < 0;
        if (bad)
            snprintf(err, errlen, "pidfile %s: directory %s is missing or not writable",
                     cfg->pidfile, dir);
        free(copy);
        if (bad)
            return -1;
    }
    return 0;
}

/* A port is free when a socket without SO_REUSEPORT can bind it: that
 * fails while any other socket holds the port, even one that set
 * SO_REUSEPORT, so a second proxy (or anything else) on the port is
 * refused here. The probe is closed at once and each worker then binds its
 * own SO_REUSEPORT listener, so that the kernel spreads the clients over
 * the workers (one shared socket would hand nearly all of them to one);
 * only a start at the same moment can slip between probe and bind. */
static int main_probe(const struct sockaddr_storage *addr, int addrlen, const char *what,
                      char *err, size_t errlen)
{
    int one = 1;
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                     bind(fd, (const struct sockaddr *)addr, (socklen_t)addrlen) < 0
                 ? -1
                 : 0;
    if (rc < 0)
        snprintf(err, errlen, "could not bind %s: %s", what, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

static int main_probe_all(const config_t *cfg, const worker_listen_t *ln, char *err,
                          size_t errlen)
{
    char what[320];
    if (ln->tls_addrlen > 0) {
        snprintf(what, sizeof(what), "tls-port %d", cfg->tls_port);
        if (main_probe(&ln->tls_addr, ln->tls_addrlen, what, err, errlen) < 0)
            return -1;
    }
    snprintf(what, sizeof(what), "listen address %s", cfg->listen);
    return main_probe(&ln->addr, ln->addrlen, what, err, errlen);
}

/* Raises RLIMIT_NOFILE's soft limit to what max-clients needs, up to the
 * hard limit (the administrator's); short of it, max-clients is lowered
 * with a warning, as Redis does. */
static int main_fd_limit(config_t *cfg, int nworkers, size_t npnodes, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t extra = (rlim_t)npnodes * (rlim_t)nworkers * (rlim_t)cfg->backend_connections +
                   MAIN_FD_RESERVE;
    rlim_t need = (rlim_t)cfg->max_clients + extra;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return 0;
    rlim_t want = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
    struct rlimit nl = { want, rl.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
        rl.rlim_cur = want;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_cur <= extra) {
        snprintf(err, errlen, "open files limit %llu leaves no room for clients (needs %llu)",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
        return -1;
    }
    log_warn("max-clients lowered max_clients=%d limit=%llu needed=%llu reason=\"open files "
             "limit (ulimit -n) below what max-clients needs\"",
             (int)(rl.rlim_cur - extra), (unsigned long long)rl.rlim_cur,
             (unsigned long long)need);
    cfg->max_clients = (int)(rl.rlim_cur - extra);
    return 0;
}

static int main_run(proxy_t *p, ring_t *ring, worker_listen_t *ln, char *err, size_t errlen)
{
    config_t *cfg = &p->cfg;
    sigset_t sigs;
    struct event *sev[3] = { NULL, NULL, NULL };
    int rc = -1, pidfd = -1;

    /* Held from before the ports open (a client or supervisor may signal
     * as soon as they do) until the handlers are in place; workers
     * inherit the mask, so only this thread gets them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int nworkers = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nworkers < 1)
        nworkers = 1;
    /* The pidfile first: a second instance names the first one's pid
     * rather than a busy port. */
    if (config_str_set(cfg->pidfile) && (pidfd = main_pidfile_lock(cfg->pidfile, err, errlen)) < 0) {
        ring_free(ring);
        return -1;
    }
    if (main_fd_limit(cfg, nworkers, ring_pnode_count(ring), err, errlen) < 0 ||
        main_probe_all(cfg, ln, err, errlen) < 0) {
        main_pidfile_release(cfg->pidfile, pidfd);
        ring_free(ring);
        return -1;
    }
    if (evthread_use_pthreads() < 0 || ringref_publish(ring) < 0) {
        snprintf(err, errlen, "cannot initialize threads");
        main_pidfile_release(cfg->pidfile, pidfd);
        ring_free(ring);
        return -1;
    }
    p->workers = calloc((size_t)nworkers, sizeof(*p->workers));
    p->nworkers = p->workers != NULL ? nworkers : 0;
    stats_init(nworkers);
    p->base = event_base_new();
    if (p->workers == NULL || p->base == NULL) {
        snprintf(err, errlen, "out of memory");
        main_pidfile_release(cfg->pidfile, pidfd);
        return -1;
    }
    for (int i = 0; i < p->nworkers && rc == -1; i++) {
        p->workers[i] = worker_new(i, cfg, p->tls, ln, err, errlen);
        if (p->workers[i] == NULL)
            rc = -2;
    }
    if (rc == -2) {
        main_pidfile_release(cfg->pidfile, pidfd);
        return -1;
    }
    if (config_str_set(cfg->admin)) {
        p->admin = admin_new(p, cfg->admin, err, errlen);
        if (p->admin == NULL) {
            main_pidfile_release(cfg->pidfile, pidfd);
            return -1;
        }
    }

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
    } else {
        rc = -1;
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
    main_pidfile_release(cfg->pidfile, pidfd);
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
        return MAIN_EXIT_USAGE;
    }
    log_set_level(p.cfg.log_level);
    event_set_log_callback(main_libevent_log);
    if (p.cfg.syslog && !check)
        log_use_syslog(1);
    signal(SIGPIPE, SIG_IGN);

    char sub[RING_ERRLEN];
    worker_listen_t ln;
    if (main_prepare(&p, &ln, err, sizeof(err)) < 0) {
        rc = MAIN_EXIT_USAGE;
    } else if (proxy_load_ring(p.cfg.ring, &ring, sub, sizeof(sub)) < 0) {
        snprintf(err, sizeof(err), "ring %s: %s", p.cfg.ring, sub);
        rc = MAIN_EXIT_RUNTIME;
    } else if (proxy_check_ring(NULL, ring, err, sizeof(err)) < 0) {
        rc = MAIN_EXIT_RUNTIME;
    } else if (check) {
        main_summary(&p.cfg, ring);
    } else {
        rc = main_run(&p, ring, &ln, err, sizeof(err)) < 0 ? MAIN_EXIT_RUNTIME : 0;
        ring = NULL; /* published or freed by main_run */
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
    script_store_clear();
    config_free(&p.cfg);
    free(p.override_names);
    free(p.override_values);
    log_use_syslog(0);
    if (rc != 0) {
        fprintf(stderr, "ringproxy: %s\n", err);
        return rc;
    }
    if (!check)
        log_info("ringproxy stopped");
    return 0;
}
