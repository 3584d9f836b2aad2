/*
 * script.h - the bodies of the scripts clients loaded with SCRIPT LOAD
 * through the proxy, kept by their sha (shared by the workers). An
 * EVALSHA of a kept script goes to its pnode as EVAL with the body, so a
 * pnode that never saw the SCRIPT LOAD (one added to the ring later, or
 * restarted) runs it, and caches it, instead of answering NOSCRIPT.
 * SCRIPT FLUSH through the proxy forgets them all.
 */
#ifndef RP_SCRIPT_H
#define RP_SCRIPT_H

#include <stddef.h>

#include <event2/buffer.h>

#include "resp.h"

/* At most this many bytes of bodies are kept; past it a script is not
 * kept and its EVALSHA may get NOSCRIPT from a pnode, as without proxy. */
#define SCRIPT_STORE_MAX_BYTES (16u << 20)

/* Keeps body under sha (40 hex digits). -1 when full or out of memory. */
int script_store_put(const char *sha, size_t shalen, const char *body, size_t len);
void script_store_clear(void);
/* EVALSHA/EVALSHA_RO sha numkeys ... written to out as EVAL/EVAL_RO with the
 * kept body: 1 when written so, 0 when the sha is not kept (nothing written). */
int script_evalsha_encode(struct evbuffer *out, const char *base, const resp_arg_t *args,
                          size_t argc);

#endif
