/*
 * vnode_list.c - "0,106,943", "800-999", "0 1 2": the vnode lists of
 * ring-tool's -v and of the proxy's admin verbs. Separators are fash's
 * (commas and spaces, split on /[, ]+/), but stricter than fash, whose CLI
 * drops entries that are not integers: a bad entry is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "ring_int.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static const char *parse_num(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;

    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return NULL;
        p++;
    }
    if (p == start)
        return NULL;
    *out = v;
    return p;
}

int ring_parse_vnode_list(const char *s, uint32_t nvnodes, uint32_t **out, size_t *n, char *err)
{
    uint32_t *list = NULL;
    size_t len = 0, cap = 0, i, k;
    const char *p = s;

    for (;;) {
        uint64_t lo, hi;
        const char *start;
        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        if ((p = parse_num(p, &lo)) == NULL)
            goto bad_entry;
        hi = lo;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '-') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if ((p = parse_num(p, &hi)) == NULL)
                goto bad_entry;
            if (hi < lo) {
                ring_err(err, "vnode range %llu-%llu runs backwards", (unsigned long long)lo, (unsigned long long)hi);
                goto fail;
            }
            while (*p == ' ' || *p == '\t')
                p++;
        }
        if (out == NULL)
            goto next;
        if (hi >= nvnodes) {
            ring_err(err, "vnode %llu is out of range (the ring has vnodes 0 to %u)", (unsigned long long)hi, nvnodes - 1);
            goto fail;
        }
        if (len + (hi - lo + 1) > cap) {
            size_t ncap = cap ? cap : 16;
            uint32_t *nl;
            while (ncap < len + (hi - lo + 1))
                ncap *= 2;
            if ((nl = realloc(list, ncap * sizeof(uint32_t))) == NULL) {
                ring_err(err, "out of memory parsing a vnode list");
                goto fail;
            }
            list = nl;
            cap = ncap;
        }
        for (; lo <= hi; lo++)
            list[len++] = (uint32_t)lo;
next:
        if (*p == '\0')
            break;
        /* Spaces alone separate too: "0 1" (p stopped past them). */
        if (*p >= '0' && *p <= '9' && (p[-1] == ' ' || p[-1] == '\t'))
            continue;
        if (*p != ',') {
            /* After spaces the offender is what follows them ("1 x"). */
            if (p[-1] == ' ' || p[-1] == '\t')
                start = p;
            goto bad_entry;
        }
        p++;
        continue;
bad_entry:
        {
            size_t elen = strcspn(start, ", \t");
            ring_err(err, "bad vnode list entry '%.*s' (want N or N-M)", (int)(elen > 64 ? 64 : elen), start);
        }
        goto fail;
    }
    if (out == NULL)
        return 0;
    qsort(list, len, sizeof(uint32_t), cmp_u32);
    for (i = 0, k = 0; i < len; i++) {
        if (k == 0 || list[k - 1] != list[i])
            list[k++] = list[i];
    }
    *out = list;
    *n = k;
    return 0;
fail:
    free(list);
    return -1;
}
