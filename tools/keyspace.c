/*
 * keyspace.c - key choice (keyspace.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace.h"

struct keyspace {
    uint64_t s[4];          /* xoshiro256** state */
    uint32_t n;
    int zipf;
    double exponent;
    /* rejection-inversion constants */
    double h_x1, h_n, sc;
};

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(keyspace_t *ks)
{
    uint64_t *s = ks->s;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

double keyspace_uniform(keyspace_t *ks)
{
    return (double)(rng_next(ks) >> 11) * 0x1.0p-53;
}

/* log1p(x)/x and expm1(x)/x, continuous at 0. */
static double helper1(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

static double helper2(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

/* H(x), the integral of h(x) = x^-s, and its inverse. */
static double zipf_H(const keyspace_t *ks, double x)
{
    double lx = log(x);
    return helper2((1 - ks->exponent) * lx) * lx;
}

static double zipf_h(const keyspace_t *ks, double x)
{
    return exp(-ks->exponent * log(x));
}

static double zipf_H_inv(const keyspace_t *ks, double x)
{
    double t = x * (1 - ks->exponent);
    if (t < -1)
        t = -1;
    return exp(helper1(t) * x);
}

static int parse_dist(keyspace_t *ks, const char *dist, char *err)
{
    if (strcmp(dist, "uniform") == 0)
        return 0;
    if (strncmp(dist, "zipf:", 5) == 0) {
        char *end;
        double s = strtod(dist + 5, &end);
        if (end != dist + 5 && *end == '\0' && isfinite(s) && s > 0 && s <= 10) {
            ks->zipf = 1;
            ks->exponent = s;
            return 0;
        }
    }
    snprintf(err, KEYSPACE_ERRLEN,
             "bad distribution '%s': want uniform or zipf:S with 0 < S <= 10", dist);
    return -1;
}

keyspace_t *keyspace_new(uint32_t nkeys, const char *dist, uint64_t seed, char *err)
{
    if (nkeys == 0 || nkeys > KEYSPACE_MAX) {
        snprintf(err, KEYSPACE_ERRLEN, "bad keyspace %u: want 1..%u", nkeys, KEYSPACE_MAX);
        return NULL;
    }
    keyspace_t *ks = calloc(1, sizeof(*ks));
    if (ks == NULL) {
        snprintf(err, KEYSPACE_ERRLEN, "out of memory");
        return NULL;
    }
    if (parse_dist(ks, dist, err) < 0) {
        free(ks);
        return NULL;
    }
    ks->n = nkeys;
    /* splitmix64 spreads the seed over the whole state */
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        ks->s[i] = z ^ (z >> 31);
    }
    if (ks->zipf) {
        ks->h_x1 = zipf_H(ks, 1.5) - 1;
        ks->h_n = zipf_H(ks, nkeys + 0.5);
        ks->sc = 2 - zipf_H_inv(ks, zipf_H(ks, 2.5) - zipf_h(ks, 2));
    }
    return ks;
}

void keyspace_free(keyspace_t *ks)
{
    free(ks);
}

uint32_t keyspace_size(const keyspace_t *ks)
{
    return ks->n;
}

uint32_t keyspace_next(keyspace_t *ks)
{
    if (!ks->zipf)
        return (uint32_t)(((rng_next(ks) >> 32) * ks->n) >> 32);
    for (;;) {
        double u = ks->h_n + keyspace_uniform(ks) * (ks->h_x1 - ks->h_n);
        double x = zipf_H_inv(ks, u);
        double k = floor(x + 0.5);
        if (k < 1)
            k = 1;
        else if (k > ks->n)
            k = ks->n;
        if (k - x <= ks->sc || u >= zipf_H(ks, k + 0.5) - zipf_h(ks, k))
            return (uint32_t)k - 1;
    }
}

size_t keyspace_key(uint32_t idx, char *buf)
{
    return (size_t)snprintf(buf, KEYSPACE_KEYLEN, "rb:%u", idx);
}
