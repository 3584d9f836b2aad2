/*
 * scan.h - SCAN over every pnode in turn. The proxy's cursor is
 * pnode_cursor * npnodes + pnode: one pnode's iteration, then the next
 * pnode's from 0, and 0 after the last, so a full iteration returns every
 * key once (with Redis's guarantees on each pnode). MATCH, COUNT and TYPE
 * go to the pnode as given.
 */
#ifndef RP_SCAN_H
#define RP_SCAN_H

#include <stddef.h>

#include "client.h"
#include "request.h"
#include "resp.h"

void scan_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                 size_t argc);

#endif
