/*
 * resp3.h - the reply encodings that differ between RESP2 and RESP3, in
 * one place: the proxy's own replies call these with the client's
 * protocol version (2 or 3) and get what Redis 7.0 gives that client.
 */
#ifndef RP_RESP3_H
#define RP_RESP3_H

#include <stddef.h>

struct evbuffer;

/* A map of n pairs: %n in RESP3, an array of 2n elements in RESP2. */
void resp3_map(struct evbuffer *out, int proto, size_t n);
/* A set of n elements: ~n in RESP3, an array in RESP2. */
void resp3_set(struct evbuffer *out, int proto, size_t n);
/* The null reply: _ in RESP3, the nil bulk $-1 in RESP2. */
void resp3_null(struct evbuffer *out, int proto);
/* Text as Redis's addReplyVerbatim: =len txt: in RESP3, a bulk in RESP2.
 * src is moved. */
void resp3_verbatim_buffer(struct evbuffer *out, int proto, struct evbuffer *src);

#endif
