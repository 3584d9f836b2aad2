/*
 * info.h - INFO [section ...], answered from the proxy's own knowledge.
 */
#ifndef RP_INFO_H
#define RP_INFO_H

#include <stddef.h>

#include "client.h"
#include "request.h"
#include "resp.h"

void info_handle(client_t *c, request_t *r, const char *base, const resp_arg_t *args,
                 size_t argc);

#endif
