/*
 * histogram.c - log-bucket histogram (histogram.h).
 *
 * Index layout: values 0..255 map to themselves. A larger value v with its
 * highest set bit at position b has shift e = b - 7 (so v >> e lies in
 * [128, 256)); its index is 256 + (e - 1) * 128 + ((v >> e) - 128). The
 * bucket then spans 2^e values starting at (v >> e) << e.
 */
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

#define HIST_SUB 128u                       /* sub-buckets per power of two */
#define HIST_LINEAR 256u                    /* values recorded exactly */
#define HIST_SHIFTS 56u                     /* e = 1 .. 56 covers 64 bits */
#define HIST_BUCKETS (HIST_LINEAR + HIST_SHIFTS * HIST_SUB)

struct histogram {
    uint64_t count, min, max;
    double sum;
    uint64_t buckets[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_LINEAR)
        return (unsigned)v;
    unsigned e = (unsigned)(63 - __builtin_clzll(v)) - 7;
    return HIST_LINEAR + (e - 1) * HIST_SUB + (unsigned)((v >> e) - HIST_SUB);
}

/* The lowest value and the width of bucket i. */
static void hist_bucket(unsigned i, uint64_t *lo, uint64_t *width)
{
    if (i < HIST_LINEAR) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned e = (i - HIST_LINEAR) / HIST_SUB + 1;
    uint64_t m = (i - HIST_LINEAR) % HIST_SUB + HIST_SUB;
    *lo = m << e;
    *width = (uint64_t)1 << e;
}

histogram_t *histogram_new(void)
{
    histogram_t *h = malloc(sizeof(*h));
    if (h != NULL)
        histogram_reset(h);
    return h;
}

void histogram_free(histogram_t *h)
{
    free(h);
}

void histogram_reset(histogram_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void histogram_record(histogram_t *h, uint64_t value)
{
    h->buckets[hist_index(value)]++;
    h->count++;
    h->sum += (double)value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

uint64_t histogram_count(const histogram_t *h)
{
    return h->count;
}

uint64_t histogram_min(const histogram_t *h)
{
    return h->count ? h->min : 0;
}

uint64_t histogram_max(const histogram_t *h)
{
    return h->max;
}

double histogram_mean(const histogram_t *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

uint64_t histogram_percentile(const histogram_t *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p > 100.0)
        p = 100.0;
    /* Nearest rank: ceil(p/100 * n), at least 1. */
    double r = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen < rank)
            continue;
        uint64_t lo, width;
        hist_bucket(i, &lo, &width);
        uint64_t v = lo + (width - 1) / 2;
        if (v < h->min)
            v = h->min;
        if (v > h->max)
            v = h->max;
        return v;
    }
    return h->max;
}
