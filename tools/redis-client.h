/*
 * redis-client.h - a small blocking RESP client for ring-tool's reshard:
 * one TCP connection with a timeout on every wait, commands appended to an
 * output buffer (so a caller pipelines by appending many and reading their
 * replies in order), and replies parsed into a tree. Also the plain socket
 * calls the reshard's HTTP requests to a proxy's admin endpoint share.
 */
#ifndef REDIS_CLIENT_H
#define REDIS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_ERRLEN 512

/* A TCP connection to host:port within timeout_ms, or -1 with err set. */
int net_connect(const char *host, uint16_t port, int timeout_ms, char *err);
/* Writes all of buf, waiting at most timeout_ms for the socket each time. */
int net_write_all(int fd, const char *buf, size_t len, int timeout_ms, char *err);
/* Reads what is there (at least one byte, or 0 at EOF) within timeout_ms;
 * -1 on error or timeout. */
long net_read_some(int fd, char *buf, size_t len, int timeout_ms, char *err);

typedef enum {
    REDIS_REPLY_STRING,  /* bulk string */
    REDIS_REPLY_STATUS,  /* +OK */
    REDIS_REPLY_ERROR,   /* -ERR ... (str holds the text) */
    REDIS_REPLY_INTEGER,
    REDIS_REPLY_NIL,     /* $-1 or *-1 */
    REDIS_REPLY_ARRAY,
} redis_reply_type_t;

typedef struct redis_reply {
    redis_reply_type_t type;
    long long integer;
    char *str;           /* NUL-terminated copy for strings, status, errors */
    size_t len;
    struct redis_reply **elem;
    size_t nelem;
} redis_reply_t;

void redis_reply_free(redis_reply_t *r);

typedef struct redis_client redis_client_t;

/* Connects to host:port; every later wait is bounded by timeout_ms. */
redis_client_t *redis_client_new(const char *host, uint16_t port, int timeout_ms, char *err);
void redis_client_free(redis_client_t *c);
/* Queues one command; nothing is sent until a reply is read. */
int redis_client_append(redis_client_t *c, size_t argc, const char *const *argv, const size_t *lens);
/* Sends what is queued without waiting for replies, so that several
 * servers work on their pipelines at once. */
int redis_client_flush(redis_client_t *c, char *err);
/* Sends what is queued, then reads the next reply. An error reply is a
 * reply, not a failure; -1 means the connection broke or timed out. */
int redis_client_read(redis_client_t *c, redis_reply_t **out, char *err);
/* Appends and reads one command whose arguments are C strings. */
redis_reply_t *redis_client_command(redis_client_t *c, char *err, size_t argc, const char *const *argv);

#endif
