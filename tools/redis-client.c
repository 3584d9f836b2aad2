/*
 * redis-client.c - see redis-client.h. Replies are parsed from the read
 * buffer only once they are complete, so a reply split across reads is
 * simply parsed again after the next read.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "redis-client.h"

#define REDIS_MAX_DEPTH 16

struct redis_client {
    int fd;
    int timeout_ms;
    char *out;
    size_t out_len, out_cap;
    char *in;
    size_t in_pos, in_len, in_cap;
    char where[300]; /* host:port, for errors */
    int oom;
};

static int net_wait(int fd, short events, int timeout_ms, const char *what, char *err)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;

    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(err, REDIS_ERRLEN, "poll: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        snprintf(err, REDIS_ERRLEN, "timed out after %d ms %s", timeout_ms, what);
        return -1;
    }
    return 0;
}

int net_connect(const char *host, uint16_t port, int timeout_ms, char *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[8];
    int fd = -1, rc, soerr = 0;
    socklen_t slen = sizeof(soerr);

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%u", port);
    if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
        snprintf(err, REDIS_ERRLEN, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    snprintf(err, REDIS_ERRLEN, "no address for %s", host);
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            snprintf(err, REDIS_ERRLEN, "socket: %s", strerror(errno));
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && net_wait(fd, POLLOUT, timeout_ms, "connecting", err) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 && soerr == 0)
            break;
        if (errno != EINPROGRESS || soerr != 0)
            snprintf(err, REDIS_ERRLEN, "cannot connect: %s", strerror(soerr ? soerr : errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int net_write_all(int fd, const char *buf, size_t len, int timeout_ms, char *err)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (net_wait(fd, POLLOUT, timeout_ms, "writing", err) < 0)
                return -1;
            continue;
        }
        snprintf(err, REDIS_ERRLEN, "write: %s", strerror(errno));
        return -1;
    }
    return 0;
}

long net_read_some(int fd, char *buf, size_t len, int timeout_ms, char *err)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, REDIS_ERRLEN, "read: %s", strerror(errno));
            return -1;
        }
        if (net_wait(fd, POLLIN, timeout_ms, "waiting for a reply", err) < 0)
            return -1;
    }
}

void redis_reply_free(redis_reply_t *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->nelem; i++)
        redis_reply_free(r->elem[i]);
    free(r->elem);
    free(r->str);
    free(r);
}

redis_client_t *redis_client_new(const char *host, uint16_t port, int timeout_ms, char *err)
{
    redis_client_t *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        snprintf(err, REDIS_ERRLEN, "out of memory");
        return NULL;
    }
    snprintf(c->where, sizeof(c->where), "%s:%u", host, port);
    c->timeout_ms = timeout_ms;
    if ((c->fd = net_connect(host, port, timeout_ms, err)) < 0) {
        char why[REDIS_ERRLEN];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, REDIS_ERRLEN, "%s: %.200s", c->where, why);
        free(c);
        return NULL;
    }
    return c;
}

void redis_client_free(redis_client_t *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c->out);
    free(c->in);
    free(c);
}

static int reserve(char **buf, size_t *cap, size_t need)
{
    char *nb;
    size_t ncap = *cap ? *cap : 16384;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    if ((nb = realloc(*buf, ncap)) == NULL)
        return -1;
    *buf = nb;
    *cap = ncap;
    return 0;
}

static void out_put(redis_client_t *c, const char *s, size_t len)
{
    if (c->oom || reserve(&c->out, &c->out_cap, c->out_len + len) < 0) {
        c->oom = 1;
        return;
    }
    memcpy(c->out + c->out_len, s, len);
    c->out_len += len;
}

int redis_client_append(redis_client_t *c, size_t argc, const char *const *argv, const size_t *lens)
{
    char hdr[32];
    size_t i;

    out_put(c, hdr, (size_t)snprintf(hdr, sizeof(hdr), "*%zu\r\n", argc));
    for (i = 0; i < argc; i++) {
        out_put(c, hdr, (size_t)snprintf(hdr, sizeof(hdr), "$%zu\r\n", lens[i]));
        out_put(c, argv[i], lens[i]);
        out_put(c, "\r\n", 2);
    }
    return c->oom ? -1 : 0;
}

/* The line at *pos (without CRLF), or NULL if it is not all there yet. */
static const char *line_at(const redis_client_t *c, size_t *pos, size_t *len)
{
    const char *start = c->in + *pos, *end = c->in + c->in_len, *p;

    for (p = start; p + 1 < end; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            *len = (size_t)(p - start);
            *pos += *len + 2;
            return start;
        }
    }
    return NULL;
}

static int parse_ll(const char *s, size_t len, long long *out)
{
    char buf[32], *end;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return errno != 0 || *end != '\0' ? -1 : 0;
}

static redis_reply_t *reply_str(redis_reply_type_t type, const char *s, size_t len)
{
    redis_reply_t *r = calloc(1, sizeof(*r));

    if (r == NULL || (r->str = malloc(len + 1)) == NULL) {
        free(r);
        return NULL;
    }
    memcpy(r->str, s, len);
    r->str[len] = '\0';
    r->len = len;
    r->type = type;
    return r;
}

/* Parses one reply at *pos: 1 done, 0 needs more bytes, -1 bad reply (err
 * set). */
static int parse_reply(redis_client_t *c, size_t *pos, int depth, redis_reply_t **out, char *err)
{
    size_t len, i;
    const char *l = line_at(c, pos, &len);
    long long n;
    redis_reply_t *r;
    int rc;

    if (l == NULL)
        return 0;
    if (len == 0 || depth > REDIS_MAX_DEPTH)
        goto bad;
    switch (l[0]) {
    case '+':
    case '-':
        r = reply_str(l[0] == '+' ? REDIS_REPLY_STATUS : REDIS_REPLY_ERROR, l + 1, len - 1);
        break;
    case ':':
        if (parse_ll(l + 1, len - 1, &n) < 0)
            goto bad;
        if ((r = calloc(1, sizeof(*r))) != NULL) {
            r->type = REDIS_REPLY_INTEGER;
            r->integer = n;
        }
        break;
    case '$':
        if (parse_ll(l + 1, len - 1, &n) < 0 || n < -1)
            goto bad;
        if (n == -1) {
            if ((r = calloc(1, sizeof(*r))) != NULL)
                r->type = REDIS_REPLY_NIL;
            break;
        }
        if (c->in_len - *pos < (size_t)n + 2)
            return 0;
        r = reply_str(REDIS_REPLY_STRING, c->in + *pos, (size_t)n);
        *pos += (size_t)n + 2;
        break;
    case '*':
        if (parse_ll(l + 1, len - 1, &n) < 0 || n < -1 || n > (1 << 24))
            goto bad;
        if ((r = calloc(1, sizeof(*r))) == NULL)
            break;
        r->type = n < 0 ? REDIS_REPLY_NIL : REDIS_REPLY_ARRAY;
        if (n <= 0)
            break;
        if ((r->elem = calloc((size_t)n, sizeof(*r->elem))) == NULL) {
            free(r);
            r = NULL;
            break;
        }
        for (i = 0; i < (size_t)n; i++) {
            if ((rc = parse_reply(c, pos, depth + 1, &r->elem[i], err)) != 1) {
                redis_reply_free(r);
                return rc;
            }
            r->nelem++;
        }
        break;
    default:
        goto bad;
    }
    if (r == NULL) {
        snprintf(err, REDIS_ERRLEN, "%s: out of memory reading a reply", c->where);
        return -1;
    }
    *out = r;
    return 1;
bad:
    snprintf(err, REDIS_ERRLEN, "%s: not a RESP reply", c->where);
    return -1;
}

int redis_client_flush(redis_client_t *c, char *err)
{
    char why[REDIS_ERRLEN];

    if (c->oom) {
        snprintf(err, REDIS_ERRLEN, "%s: out of memory queueing commands", c->where);
        return -1;
    }
    if (c->out_len > 0 && net_write_all(c->fd, c->out, c->out_len, c->timeout_ms, why) < 0) {
        snprintf(err, REDIS_ERRLEN, "%s: %.200s", c->where, why);
        return -1;
    }
    c->out_len = 0;
    return 0;
}

int redis_client_read(redis_client_t *c, redis_reply_t **out, char *err)
{
    char why[REDIS_ERRLEN];
    size_t pos;
    long n;
    int rc;

    if (redis_client_flush(c, err) < 0)
        return -1;
    for (;;) {
        pos = c->in_pos;
        if (c->in_len > pos && (rc = parse_reply(c, &pos, 0, out, err)) != 0) {
            if (rc < 0)
                return -1;
            c->in_pos = pos;
            if (c->in_pos == c->in_len)
                c->in_pos = c->in_len = 0;
            return 0;
        }
        /* Keep the unparsed tail at the front, and room to read into. */
        if (c->in_pos > 0) {
            memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
            c->in_len -= c->in_pos;
            c->in_pos = 0;
        }
        if (reserve(&c->in, &c->in_cap, c->in_len + 65536) < 0) {
            snprintf(err, REDIS_ERRLEN, "%s: out of memory reading a reply", c->where);
            return -1;
        }
        n = net_read_some(c->fd, c->in + c->in_len, c->in_cap - c->in_len, c->timeout_ms, why);
        if (n < 0)
            goto fail;
        if (n == 0) {
            snprintf(why, sizeof(why), "connection closed");
            goto fail;
        }
        c->in_len += (size_t)n;
    }
fail:
    snprintf(err, REDIS_ERRLEN, "%s: %.200s", c->where, why);
    return -1;
}

redis_reply_t *redis_client_command(redis_client_t *c, char *err, size_t argc, const char *const *argv)
{
    size_t lens[8], i;
    redis_reply_t *r;

    if (argc > 8) {
        snprintf(err, REDIS_ERRLEN, "too many arguments");
        return NULL;
    }
    for (i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (redis_client_append(c, argc, argv, lens) < 0 || redis_client_read(c, &r, err) < 0) {
        if (c->oom)
            snprintf(err, REDIS_ERRLEN, "%s: out of memory", c->where);
        return NULL;
    }
    return r;
}
