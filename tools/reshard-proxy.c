/*
 * reshard-proxy.c - makes every proxy load the ring just committed and
 * waits until it serves it. A proxy is named either by its admin endpoint
 * (http://HOST:PORT: POST /reload, then GET /ring) or by its pid file and
 * client port (PIDFILE@HOST:PORT: SIGHUP, then RING INFO). Every wait is
 * bounded, and a proxy that does not converge is named in the error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "json.h"
#include "reshard.h"

#define PROXY_POLL_MS 20
#define PROXY_RESEND_MS 1000
#define PROXY_MAX_ANSWER (1 << 20)

/* HOST:PORT as a pnode address parses it, IPv6 in brackets included. */
static int parse_hostport(const char *hp, reshard_proxy_t *p, char *err)
{
    char name[300], why[RING_ERRLEN];
    ring_addr_t addr;

    snprintf(name, sizeof(name), "tcp://%s", hp);
    if (strlen(hp) > 280 || ring_pnode_addr(name, &addr, why) < 0) {
        snprintf(err, RESHARD_ERRLEN, "proxy '%s': '%s' is not HOST:PORT", p->spec, hp);
        return -1;
    }
    memcpy(p->host, addr.host, sizeof(p->host));
    p->port = addr.port;
    return 0;
}

static int parse_one(char *s, reshard_proxy_t *p, char *err)
{
    char *at;
    size_t n;

    if ((p->spec = strdup(s)) == NULL)
        goto oom;
    if (strncmp(s, "http://", 7) == 0) {
        p->http = 1;
        s += 7;
        n = strlen(s);
        if (n > 0 && s[n - 1] == '/')
            s[n - 1] = '\0';
        return parse_hostport(s, p, err);
    }
    at = strrchr(s, '@');
    if (at == NULL || at == s) {
        snprintf(err, RESHARD_ERRLEN,
                 "proxy '%s' is neither http://HOST:PORT (admin endpoint) nor PIDFILE@HOST:PORT", s);
        return -1;
    }
    *at = '\0';
    if ((p->pidfile = strdup(s)) == NULL)
        goto oom;
    return parse_hostport(at + 1, p, err);
oom:
    snprintf(err, RESHARD_ERRLEN, "out of memory");
    return -1;
}

void reshard_proxies_free(reshard_proxy_t *p, size_t n)
{
    size_t i;

    for (i = 0; p != NULL && i < n; i++) {
        free(p[i].spec);
        free(p[i].pidfile);
    }
    free(p);
}

int reshard_proxies_parse(const char *list, reshard_proxy_t **out, size_t *n, char *err)
{
    char *buf = strdup(list), *tok, *save = NULL;
    reshard_proxy_t *p = NULL;
    size_t cnt = 1, k = 0;
    const char *q;

    for (q = list; *q != '\0'; q++)
        cnt += *q == ',';
    if (buf == NULL || (p = calloc(cnt, sizeof(*p))) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        goto fail;
    }
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok == '\0')
            continue;
        if (parse_one(tok, &p[k++], err) < 0)
            goto fail;
    }
    if (k == 0) {
        snprintf(err, RESHARD_ERRLEN, "--proxies names no proxy");
        goto fail;
    }
    free(buf);
    *out = p;
    *n = k;
    return 0;
fail:
    reshard_proxies_free(p, k);
    free(buf);
    return -1;
}

/* One HTTP/1.0 request; the body of a 2xx answer into *body (malloc'd). */
static int http_request(const reshard_proxy_t *p, const char *method, const char *path, int timeout_ms,
                        char **body, char *err)
{
    char req[512], why[REDIS_ERRLEN], *buf = NULL, *hdr_end;
    size_t len = 0;
    long n = 0;
    int fd, status = 0;

    if ((fd = net_connect(p->host, p->port, timeout_ms, why)) < 0)
        goto fail;
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s:%u\r\nContent-Length: 0\r\n\r\n", method, path,
             p->host, p->port);
    if (net_write_all(fd, req, strlen(req), timeout_ms, why) < 0)
        goto fail;
    if ((buf = malloc(PROXY_MAX_ANSWER + 1)) == NULL) {
        snprintf(why, sizeof(why), "out of memory");
        goto fail;
    }
    while (len < PROXY_MAX_ANSWER && (n = net_read_some(fd, buf + len, PROXY_MAX_ANSWER - len, timeout_ms, why)) > 0)
        len += (size_t)n;
    if (n < 0)
        goto fail;
    buf[len] = '\0';
    hdr_end = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || hdr_end == NULL) {
        snprintf(why, sizeof(why), "%s %s: not an HTTP answer", method, path);
        goto fail;
    }
    if (status < 200 || status > 299) {
        char *nl = strpbrk(hdr_end + 4, "\r\n");
        if (nl != NULL)
            *nl = '\0';
        snprintf(why, sizeof(why), "%s %s: HTTP %d %.200s", method, path, status, hdr_end + 4);
        goto fail;
    }
    close(fd);
    memmove(buf, hdr_end + 4, len - (size_t)(hdr_end + 4 - buf) + 1);
    *body = buf;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    snprintf(err, RESHARD_ERRLEN, "proxy %s: %s", p->spec, why);
    return -1;
}

/* The number under "generation" in GET /ring's JSON object. */
static int json_generation(const char *body, uint64_t *gen)
{
    json_cur_t c;
    const char *k;
    size_t klen;

    json_init(&c, body, strlen(body));
    if (json_expect(&c, '{') < 0)
        return -1;
    if (json_peek(&c) == '}')
        return -1;
    do {
        if (json_string_raw(&c, &k, &klen) < 0 || json_expect(&c, ':') < 0)
            return -1;
        if (klen == 10 && memcmp(k, "generation", 10) == 0)
            return json_uint(&c, gen);
        if (json_skip(&c) < 0)
            return -1;
    } while (json_next(&c, '}') == 1);
    return -1;
}

/* generation:N in RING INFO's bulk string. */
static int info_generation(const char *s, uint64_t *gen)
{
    const char *g = strstr(s, "generation:");
    char *end;

    if (g == NULL)
        return -1;
    errno = 0;
    *gen = strtoull(g + 11, &end, 10);
    return errno != 0 || end == g + 11 ? -1 : 0;
}

int reshard_proxy_generation(const reshard_proxy_t *p, int timeout_ms, uint64_t *gen, char *err)
{
    static const char *const cmd[] = {"RING", "INFO"};
    char why[REDIS_ERRLEN];
    redis_client_t *c;
    redis_reply_t *r;
    char *body;
    int rc;

    if (p->http) {
        if (http_request(p, "GET", "/ring", timeout_ms, &body, err) < 0)
            return -1;
        rc = json_generation(body, gen);
        free(body);
        if (rc < 0)
            snprintf(err, RESHARD_ERRLEN, "proxy %s: GET /ring has no \"generation\"", p->spec);
        return rc;
    }
    if ((c = redis_client_new(p->host, p->port, timeout_ms, why)) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "proxy %s does not answer: %s", p->spec, why);
        return -1;
    }
    r = redis_client_command(c, why, 2, cmd);
    redis_client_free(c);
    if (r == NULL) {
        snprintf(err, RESHARD_ERRLEN, "proxy %s does not answer: %s", p->spec, why);
        return -1;
    }
    rc = r->type == REDIS_REPLY_STRING ? info_generation(r->str, gen) : -1;
    if (rc < 0)
        snprintf(err, RESHARD_ERRLEN, "proxy %s: RING INFO has no generation (%.100s)", p->spec,
                 r->str != NULL ? r->str : "no text");
    redis_reply_free(r);
    return rc;
}

/* Sends the reload: SIGHUP to the pid in the pid file, or POST /reload. */
static int send_reload(const reshard_proxy_t *p, int timeout_ms, char *err)
{
    char buf[64], *end, *body;
    FILE *f;
    long pid;

    if (p->http) {
        if (http_request(p, "POST", "/reload", timeout_ms, &body, err) < 0)
            return -1;
        free(body);
        return 0;
    }
    if ((f = fopen(p->pidfile, "r")) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "proxy %s: cannot open pid file %s: %s", p->spec, p->pidfile,
                 strerror(errno));
        return -1;
    }
    end = fgets(buf, sizeof(buf), f);
    fclose(f);
    pid = end != NULL ? strtol(buf, &end, 10) : 0;
    if (pid <= 1 || (*end != '\0' && *end != '\n')) {
        snprintf(err, RESHARD_ERRLEN, "proxy %s: pid file %s holds no pid", p->spec, p->pidfile);
        return -1;
    }
    if (kill((pid_t)pid, SIGHUP) < 0) {
        snprintf(err, RESHARD_ERRLEN, "proxy %s: cannot signal pid %ld: %s", p->spec, pid, strerror(errno));
        return -1;
    }
    return 0;
}

int reshard_proxy_reload(const reshard_proxy_t *p, uint64_t want, int timeout_ms, char *err)
{
    int64_t start = reshard_mono_us() / 1000, sent = start;
    uint64_t gen = 0;
    int have = 0;

    if (send_reload(p, timeout_ms, err) < 0)
        return -1;
    for (;;) {
        int64_t now = reshard_mono_us() / 1000;
        int left = (int)(start + timeout_ms - now);
        if (left <= 0)
            break;
        if (reshard_proxy_generation(p, left, &gen, err) == 0) {
            have = 1;
            if (gen >= want)
                return 0;
        }
        /* A reload can fail on a ring that is busy for a moment; ask again. */
        if (now - sent >= PROXY_RESEND_MS) {
            sent = now;
            if (send_reload(p, left, err) < 0)
                return -1;
        }
        reshard_sleep_ms(PROXY_POLL_MS);
    }
    if (have)
        snprintf(err, RESHARD_ERRLEN, "proxy %s did not reach ring generation %llu within %d ms (it serves %llu)",
                 p->spec, (unsigned long long)want, timeout_ms, (unsigned long long)gen);
    else {
        char why[RESHARD_ERRLEN];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, RESHARD_ERRLEN, "proxy %s did not reach ring generation %llu within %d ms: %.600s", p->spec,
                 (unsigned long long)want, timeout_ms, why);
    }
    return -1;
}
