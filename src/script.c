/*
 * script.c - a short list under a mutex: SCRIPT LOAD and EVALSHA are far
 * from the GET/SET path, and applications load a handful of scripts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "fanout.h"
#include "proxycmd.h"
#include "script.h"
#include "worker.h"

#define SCRIPT_SHA_LEN 40

typedef struct script {
    struct script *next;
    char sha[SCRIPT_SHA_LEN];  /* lower case, as Redis replies it */
    size_t len;
    char body[];
} script_t;

static pthread_mutex_t script_lock = PTHREAD_MUTEX_INITIALIZER;
static script_t *script_list;
static size_t script_bytes;

static script_t *script_find(const char *sha)
{
    for (script_t *s = script_list; s != NULL; s = s->next) {
        if (strncasecmp(s->sha, sha, SCRIPT_SHA_LEN) == 0)
            return s;
    }
    return NULL;
}

int script_store_put(const char *sha, size_t shalen, const char *body, size_t len)
{
    int rc = 0;
    if (shalen != SCRIPT_SHA_LEN)
        return -1;
    pthread_mutex_lock(&script_lock);
    if (script_find(sha) == NULL) {
        script_t *s = script_bytes + len <= SCRIPT_STORE_MAX_BYTES ? malloc(sizeof(*s) + len)
                                                                   : NULL;
        if (s == NULL) {
            rc = -1;
        } else {
            memcpy(s->sha, sha, SCRIPT_SHA_LEN);
            memcpy(s->body, body, len);
            s->len = len;
            s->next = script_list;
            script_list = s;
            script_bytes += len;
        }
    }
    pthread_mutex_unlock(&script_lock);
    return rc;
}

void script_store_clear(void)
{
    pthread_mutex_lock(&script_lock);
    while (script_list != NULL) {
        script_t *s = script_list;
        script_list = s->next;
        free(s);
    }
    script_bytes = 0;
    pthread_mutex_unlock(&script_lock);
}

int script_evalsha_encode(struct evbuffer *scratch, const char *base, const resp_arg_t *args,
                          size_t argc)
{
    int ro = args[0].len == 10; /* EVALSHA_RO */
    if (args[1].len != SCRIPT_SHA_LEN)
        return 0;
    pthread_mutex_lock(&script_lock);
    const script_t *sc = script_find(base + args[1].off);
    if (sc != NULL) {
        evbuffer_add_printf(scratch, "*%zu\r\n", argc);
        proxycmd_bulk_str(scratch, ro ? "EVAL_RO" : "EVAL");
        proxycmd_bulk(scratch, sc->body, sc->len);
    }
    pthread_mutex_unlock(&script_lock);
    if (sc == NULL)
        return 0;
    fanout_encode(scratch, base, args, 2, argc);
    return 1;
}
