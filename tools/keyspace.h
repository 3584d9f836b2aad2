/*
 * keyspace.h - which key the next request uses: uniform over N keys, or
 * Zipf-distributed with exponent S (rank 1 is the hottest key), drawn from
 * a seeded PRNG so that a seed gives the same request stream every run.
 * Zipf uses Hörmann and Derflinger's rejection-inversion, which needs O(1)
 * memory and time for any N and any S > 0.
 */
#ifndef KEYSPACE_H
#define KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

#define KEYSPACE_MAX 100000000u
#define KEYSPACE_ERRLEN 128
/* Longest key keyspace_key writes, NUL included. */
#define KEYSPACE_KEYLEN 16

typedef struct keyspace keyspace_t;

/* dist is "uniform" or "zipf:S". Fails with a message on bad input. */
keyspace_t *keyspace_new(uint32_t nkeys, const char *dist, uint64_t seed, char *err);
void keyspace_free(keyspace_t *ks);

/* The next key's index in [0, nkeys). */
uint32_t keyspace_next(keyspace_t *ks);
/* A uniform double in [0, 1) from the same stream. */
double keyspace_uniform(keyspace_t *ks);
uint32_t keyspace_size(const keyspace_t *ks);

/* The key named by idx ("rb:IDX"); returns its length. */
size_t keyspace_key(uint32_t idx, char *buf);

#endif
