/*
 * histogram.h - an HDR-style latency histogram: log-spaced buckets, each
 * power of two split into 128 linear sub-buckets, so any recorded value is
 * known to within 1/256 of itself (well under 1%). Values below 256 are
 * exact. Memory is fixed (about 60 KB); recording is O(1) with no
 * allocation, so it can sit on the hot path.
 */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include <stdint.h>

typedef struct histogram histogram_t;

histogram_t *histogram_new(void);
void histogram_free(histogram_t *h);
void histogram_reset(histogram_t *h);

void histogram_record(histogram_t *h, uint64_t value);

uint64_t histogram_count(const histogram_t *h);
uint64_t histogram_min(const histogram_t *h);
uint64_t histogram_max(const histogram_t *h);
double histogram_mean(const histogram_t *h);
/* The value at percentile p (0 < p <= 100) by nearest rank: the smallest
 * recorded value v such that at least p% of the values are <= v, reported
 * as the middle of its bucket (clamped to the exact min and max). 0 for an
 * empty histogram. */
uint64_t histogram_percentile(const histogram_t *h, double p);

#endif
