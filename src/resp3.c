/*
 * resp3.c - RESP2/RESP3 reply headers, as Redis 7.0's networking.c.
 */
#include <event2/buffer.h>

#include "resp3.h"

void resp3_map(struct evbuffer *out, int proto, size_t n)
{
    if (proto == 3)
        evbuffer_add_printf(out, "%%%zu\r\n", n);
    else
        evbuffer_add_printf(out, "*%zu\r\n", 2 * n);
}

void resp3_set(struct evbuffer *out, int proto, size_t n)
{
    evbuffer_add_printf(out, "%c%zu\r\n", proto == 3 ? '~' : '*', n);
}

void resp3_null(struct evbuffer *out, int proto)
{
    if (proto == 3)
        evbuffer_add(out, "_\r\n", 3);
    else
        evbuffer_add(out, "$-1\r\n", 5);
}

void resp3_verbatim_buffer(struct evbuffer *out, int proto, struct evbuffer *src)
{
    size_t len = evbuffer_get_length(src);
    if (proto == 3)
        evbuffer_add_printf(out, "=%zu\r\ntxt:", len + 4);
    else
        evbuffer_add_printf(out, "$%zu\r\n", len);
    evbuffer_add_buffer(out, src);
    evbuffer_add(out, "\r\n", 2);
}
