/*
 * verify.c - the write-tracking verifier (verify.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace.h"
#include "verify.h"

#define VERIFY_F_LOST 0x01
#define VERIFY_F_UNEXPECTED 0x02
#define VERIFY_MAGIC "ringbench-state 1"

typedef struct {
    uint64_t sent;     /* writes sent so far */
    uint64_t settled;  /* sent, as of the last moment nothing was in flight */
    uint64_t floor;    /* oldest sequence a read sent now may return */
    uint32_t inflight;
    uint16_t pinned;   /* a write of unknown outcome: settled stays put */
    uint16_t flags;    /* VERIFY_F_*: already counted among the bad keys */
} verify_key_t;

struct verify {
    uint32_t nkeys;
    uint64_t by_status[VERIFY_UNSENT + 1];
    verify_key_t *keys;
};

verify_t *verify_new(uint32_t nkeys)
{
    if (nkeys == 0 || nkeys > VERIFY_MAX_KEYS)
        return NULL;
    verify_t *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    /* calloc leaves untouched pages unmapped, so a big sparse keyspace
     * costs only what is written */
    v->keys = calloc(nkeys, sizeof(*v->keys));
    if (v->keys == NULL) {
        free(v);
        return NULL;
    }
    v->nkeys = nkeys;
    return v;
}

void verify_free(verify_t *v)
{
    if (v == NULL)
        return;
    free(v->keys);
    free(v);
}

uint32_t verify_nkeys(const verify_t *v)
{
    return v->nkeys;
}

void verify_write_begin(verify_t *v, uint32_t k, verify_write_t *w)
{
    verify_key_t *key = &v->keys[k];
    w->seq = ++key->sent;
    w->base = key->settled;
    key->inflight++;
}

void verify_write_end(verify_t *v, uint32_t k, const verify_write_t *w,
                      verify_outcome_t outcome)
{
    verify_key_t *key = &v->keys[k];
    if (outcome == VERIFY_ACKED && key->floor < w->base + 1)
        key->floor = w->base + 1;
    else if (outcome == VERIFY_UNKNOWN)
        key->pinned = 1;
    if (--key->inflight == 0 && !key->pinned)
        key->settled = key->sent;
}

uint64_t verify_read_begin(const verify_t *v, uint32_t k)
{
    return v->keys[k].floor;
}

/* "KEY|SEQ|" then only '.'; the key part is returned in place. */
static int parse_value(const char *val, size_t len, const char **key, size_t *klen,
                       uint64_t *seq)
{
    const char *bar = memchr(val, '|', len);
    if (bar == NULL || bar == val)
        return -1;
    *key = val;
    *klen = (size_t)(bar - val);
    const char *p = bar + 1, *end = val + len;
    uint64_t s = 0;
    if (p == end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9') {
        if (s > (UINT64_MAX - 9) / 10)
            return -1;
        s = s * 10 + (uint64_t)(*p++ - '0');
    }
    if (p == end || *p++ != '|')
        return -1;
    while (p < end)
        if (*p++ != '.')
            return -1;
    *seq = s;
    return 0;
}

verify_status_t verify_read_check(const verify_t *v, uint32_t k, uint64_t floor,
                                  const char *val, size_t len, int nil)
{
    /* before its first acknowledged write a key may hold anything, such as
     * an earlier run's data */
    if (floor == 0)
        return VERIFY_OK;
    if (nil)
        return VERIFY_MISSING;
    const char *key;
    size_t klen;
    uint64_t seq;
    if (parse_value(val, len, &key, &klen, &seq) < 0)
        return VERIFY_MALFORMED;
    char want[KEYSPACE_KEYLEN];
    size_t wlen = keyspace_key(k, want);
    if (klen != wlen || memcmp(key, want, wlen) != 0)
        return VERIFY_WRONG_KEY;
    if (seq == 0 || seq > v->keys[k].sent)
        return VERIFY_UNSENT;
    return seq < floor ? VERIFY_STALE : VERIFY_OK;
}

void verify_note(verify_t *v, uint32_t k, verify_status_t st)
{
    v->by_status[st]++;
    if (st == VERIFY_MISSING || st == VERIFY_STALE)
        v->keys[k].flags |= VERIFY_F_LOST;
    else if (st != VERIFY_OK)
        v->keys[k].flags |= VERIFY_F_UNEXPECTED;
}

int verify_written(const verify_t *v, uint32_t k)
{
    return v->keys[k].sent > 0;
}

uint64_t verify_lost(const verify_t *v)
{
    return v->by_status[VERIFY_MISSING] + v->by_status[VERIFY_STALE];
}

uint64_t verify_unexpected(const verify_t *v)
{
    return v->by_status[VERIFY_MALFORMED] + v->by_status[VERIFY_WRONG_KEY] +
           v->by_status[VERIFY_UNSENT];
}

size_t verify_value(char *buf, size_t cap, uint32_t k, uint64_t seq, size_t size)
{
    char key[KEYSPACE_KEYLEN];
    keyspace_key(k, key);
    int n = snprintf(buf, cap, "%s|%" PRIu64 "|", key, seq);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= cap)
        return cap;
    if (size > cap)
        size = cap;
    if (size > len) {
        memset(buf + len, '.', size - len);
        len = size;
    }
    return len;
}

static uint32_t count_written(const verify_t *v)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < v->nkeys; k++)
        n += v->keys[k].sent > 0;
    return n;
}

static void list_keys(const verify_t *v, json_buf_t *b, uint32_t flag)
{
    char key[KEYSPACE_KEYLEN];
    uint32_t listed = 0;
    json_puts(b, "[");
    for (uint32_t k = 0; k < v->nkeys && listed < VERIFY_LIST_MAX; k++) {
        if (!(v->keys[k].flags & flag))
            continue;
        size_t len = keyspace_key(k, key);
        json_puts(b, listed++ ? "," : "");
        json_put_str(b, key, len);
    }
    json_puts(b, "]");
}

void verify_report_json(const verify_t *v, json_buf_t *b)
{
    const uint64_t *s = v->by_status;
    json_printf(b, "\"verify\":{\"keys_written\":%u,\"reads_checked\":%" PRIu64
                ",\"lost\":%" PRIu64 ",\"missing\":%" PRIu64 ",\"stale\":%" PRIu64
                ",\"unexpected\":%" PRIu64 ",\"malformed\":%" PRIu64
                ",\"wrong_key\":%" PRIu64 ",\"unsent\":%" PRIu64 ",\"lost_keys\":",
                count_written(v),
                s[VERIFY_OK] + verify_lost(v) + verify_unexpected(v), verify_lost(v),
                s[VERIFY_MISSING], s[VERIFY_STALE], verify_unexpected(v),
                s[VERIFY_MALFORMED], s[VERIFY_WRONG_KEY], s[VERIFY_UNSENT]);
    list_keys(v, b, VERIFY_F_LOST);
    json_puts(b, ",\"unexpected_keys\":");
    list_keys(v, b, VERIFY_F_UNEXPECTED);
    json_puts(b, "}");
}

void verify_report_text(const verify_t *v, json_buf_t *b)
{
    const uint64_t *s = v->by_status;
    json_printf(b, "verify:      %u keys written, %" PRIu64 " reads checked\n", count_written(v),
                s[VERIFY_OK] + verify_lost(v) + verify_unexpected(v));
    json_printf(b, "  lost:       %" PRIu64 " (missing %" PRIu64 ", stale %" PRIu64 ")\n",
                verify_lost(v), s[VERIFY_MISSING], s[VERIFY_STALE]);
    json_printf(b, "  unexpected: %" PRIu64 " (malformed %" PRIu64 ", wrong key %" PRIu64
                ", never sent %" PRIu64 ")\n", verify_unexpected(v), s[VERIFY_MALFORMED],
                s[VERIFY_WRONG_KEY], s[VERIFY_UNSENT]);
    if (verify_lost(v)) {
        json_puts(b, "  lost keys: ");
        list_keys(v, b, VERIFY_F_LOST);
        json_puts(b, "\n");
    }
    if (verify_unexpected(v)) {
        json_puts(b, "  unexpected keys: ");
        list_keys(v, b, VERIFY_F_UNEXPECTED);
        json_puts(b, "\n");
    }
}

int verify_save(const verify_t *v, const char *path, char *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, VERIFY_ERRLEN, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%s %u\n", VERIFY_MAGIC, v->nkeys);
    for (uint32_t k = 0; k < v->nkeys; k++) {
        const verify_key_t *key = &v->keys[k];
        if (key->sent > 0)
            fprintf(f, "%u %" PRIu64 " %" PRIu64 "\n", k, key->sent, key->floor);
    }
    if (ferror(f) | fclose(f)) {
        snprintf(err, VERIFY_ERRLEN, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

verify_t *verify_load(const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, VERIFY_ERRLEN, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    verify_t *v = NULL;
    char line[128];
    unsigned nkeys;
    int n;
    if (fgets(line, sizeof(line), f) == NULL ||
        sscanf(line, VERIFY_MAGIC " %u%n", &nkeys, &n) != 1 || line[n] != '\n' ||
        (v = verify_new(nkeys)) == NULL) {
        snprintf(err, VERIFY_ERRLEN, "%s: not a ringbench state file", path);
        fclose(f);
        return NULL;
    }
    for (unsigned lineno = 2; fgets(line, sizeof(line), f) != NULL; lineno++) {
        unsigned k;
        uint64_t sent, floor;
        if (sscanf(line, "%u %" SCNu64 " %" SCNu64 "%n", &k, &sent, &floor, &n) != 3 ||
            line[n] != '\n' || k >= nkeys || sent == 0 || floor > sent ||
            v->keys[k].sent != 0) {
            snprintf(err, VERIFY_ERRLEN, "%s:%u: bad line", path, lineno);
            verify_free(v);
            fclose(f);
            return NULL;
        }
        v->keys[k].sent = v->keys[k].settled = sent;
        v->keys[k].floor = floor;
    }
    fclose(f);
    return v;
}
