/*
 * reply.h - reads one RESP2 reply from a byte range, in place. ringbench
 * needs only the reply's kind and, for errors and bulk strings, its bytes;
 * arrays are validated and skipped whole.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>
#include <sys/types.h>

typedef enum {
    REPLY_STATUS,  /* +OK */
    REPLY_ERROR,   /* -ERR ... */
    REPLY_INTEGER,
    REPLY_BULK,
    REPLY_NIL,     /* $-1 or *-1 */
    REPLY_ARRAY,
} reply_type_t;

typedef struct {
    reply_type_t type;
    const char *str;  /* status, error or bulk bytes (not NUL-terminated) */
    size_t len;
} reply_t;

/* Bytes the reply at p takes, 0 if it is not complete yet, -1 if the bytes
 * are not RESP. */
ssize_t reply_parse(const char *p, size_t len, reply_t *out);

#endif
