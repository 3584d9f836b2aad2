/*
 * hash.c - key -> vnode: digest the key, read the digest as a big-endian
 * integer H, vnode = floor(H / interval) clamped to nvnodes - 1, where
 * interval = floor(MAX / nvnodes) (ring-image.md).
 *
 * The division is exact without a bignum. The quotient is below 2^25
 * (nvnodes <= 10^7), so the interval has at least (bits - 25) significant
 * bits: dividing H and the interval's top 64 bits by the same power of two
 * gives an estimate q' with q <= q' <= q + 1 (the interval's dropped low
 * bits change the quotient by less than q / 2^63). One multiply-and-compare
 * against H settles it. Nothing is allocated per key.
 */
/* OpenSSL 3's one-shot SHA256(), SHA1() and EVP_Digest() fetch the
 * algorithm on every call (a lock, reference counts and a malloc): about
 * 400 ns for a 16-byte key. The low-level contexts live on the stack and
 * take no lock: about 60 ns with SHA-NI, and thread-safe. They are
 * deprecated in 3.0 but present throughout 3.x. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/md5.h>
#include <openssl/sha.h>
#include <xxhash.h>

#include "ring_int.h"

static const char *const algo_names[] = {"xxh3", "sha256", "sha1", "md5"};
static const size_t algo_len[] = {8, 32, 20, 16};

const char *ring_algo_name(ring_algo_t algo)
{
    return (unsigned)algo < 4 ? algo_names[algo] : "unknown";
}

int ring_algo_parse(const char *name, ring_algo_t *algo)
{
    unsigned i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(name, algo_names[i]) == 0) {
            *algo = (ring_algo_t)i;
            return 0;
        }
    }
    return -1;
}

size_t ring_algo_digest_len(ring_algo_t algo)
{
    return algo_len[algo];
}

void ring_algo_max_hex(ring_algo_t algo, char *buf, size_t len)
{
    size_t n = algo_len[algo] * 2;

    if (len == 0)
        return;
    if (n >= len)
        n = len - 1;
    memset(buf, 'F', n);
    buf[n] = '\0';
}

int ring_u256_cmp(const ring_u256_t *a, const ring_u256_t *b)
{
    int i;

    for (i = 0; i < 4; i++) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

/* floor((2^bits - 1) / n), by long division over 64-bit limbs. */
void ring_interval_compute(ring_algo_t algo, uint32_t nvnodes, ring_u256_t *out)
{
    unsigned bits = (unsigned)algo_len[algo] * 8;
    ring_u256_t max;
    unsigned __int128 rem = 0;
    int i;

    memset(&max, 0, sizeof(max));
    for (i = 3; i >= 0 && bits > 0; i--) {
        unsigned take = bits >= 64 ? 64 : bits;
        max.w[i] = take == 64 ? UINT64_MAX : ((uint64_t)1 << take) - 1;
        bits -= take;
    }
    for (i = 0; i < 4; i++) {
        unsigned __int128 cur = (rem << 64) | max.w[i];
        out->w[i] = (uint64_t)(cur / nvnodes);
        rem = cur % nvnodes;
    }
}

static unsigned bit_length(const ring_u256_t *v)
{
    int i;

    for (i = 0; i < 4; i++) {
        if (v->w[i] != 0)
            return (unsigned)(64 * (4 - i) - __builtin_clzll(v->w[i]));
    }
    return 0;
}

/* v >> s, as far as the low 128 bits (the callers know the rest is 0). */
static unsigned __int128 shr128(const ring_u256_t *v, unsigned s)
{
    unsigned limb = s / 64, bit = s % 64;
    unsigned __int128 lo = 0, hi = 0, mid = 0;

    /* limbs counted from the least significant: L(k) = w[3 - k] */
#define L(k) ((k) < 4 ? v->w[3 - (k)] : 0)
    lo = L(limb);
    mid = L(limb + 1);
    hi = L(limb + 2);
#undef L
    if (bit == 0)
        return lo | (mid << 64);
    return (lo >> bit) | (mid << (64 - bit)) | (hi << (128 - bit));
}

void ring_div_prepare(ring_t *r)
{
    unsigned len = bit_length(&r->interval);

    r->div_shift = len > 64 ? len - 64 : 0;
    r->div_hi = (uint64_t)shr128(&r->interval, r->div_shift);
}

/* Is q * d > h?  q * d can exceed 256 bits, hence the carry out. */
static int mul_gt(const ring_u256_t *d, uint64_t q, const ring_u256_t *h)
{
    uint64_t prod[4];
    unsigned __int128 carry = 0;
    int i;

    for (i = 3; i >= 0; i--) {
        unsigned __int128 t = (unsigned __int128)d->w[i] * q + carry;
        prod[i] = (uint64_t)t;
        carry = t >> 64;
    }
    if (carry != 0)
        return 1;
    for (i = 0; i < 4; i++) {
        if (prod[i] != h->w[i])
            return prod[i] > h->w[i];
    }
    return 0;
}

uint32_t ring_digest_vnode(const ring_t *r, const ring_u256_t *h)
{
    unsigned __int128 hs;
    uint64_t q;

    if (r->algo == RING_HASH_XXH3) {
        q = h->w[3] / r->interval.w[3];
        return q >= r->nvnodes ? r->nvnodes - 1 : (uint32_t)q;
    }
    hs = shr128(h, r->div_shift);
    /* hs < 2^(64+25), div_hi >= 2^63: the quotient fits in 64 bits. */
    q = (uint64_t)(hs / r->div_hi);
    if (r->div_shift > 0 && q > 0 && mul_gt(&r->interval, q, h))
        q--;
    return q >= r->nvnodes ? r->nvnodes - 1 : (uint32_t)q;
}

static void load_be(const unsigned char *md, size_t len, ring_u256_t *out)
{
    unsigned char buf[32];
    int i, j;

    memset(buf, 0, sizeof(buf));
    memcpy(buf + 32 - len, md, len);
    for (i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (j = 0; j < 8; j++)
            w = (w << 8) | buf[i * 8 + j];
        out->w[i] = w;
    }
}

uint32_t ring_hash_vnode(const ring_t *r, const void *key, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t mdlen = 0;
    ring_u256_t h;

    switch (r->algo) {
    case RING_HASH_XXH3: {
        /* Inline: the proxy's default path should cost one hash and one
         * 64-bit division. */
        uint64_t q = XXH3_64bits(key, len) / r->interval.w[3];
        return q >= r->nvnodes ? r->nvnodes - 1 : (uint32_t)q;
    }
    case RING_HASH_SHA256: {
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, key, len);
        SHA256_Final(md, &c);
        mdlen = SHA256_DIGEST_LENGTH;
        break;
    }
    case RING_HASH_SHA1: {
        SHA_CTX c;
        SHA1_Init(&c);
        SHA1_Update(&c, key, len);
        SHA1_Final(md, &c);
        mdlen = SHA_DIGEST_LENGTH;
        break;
    }
    case RING_HASH_MD5: {
        MD5_CTX c;
        MD5_Init(&c);
        MD5_Update(&c, key, len);
        MD5_Final(md, &c);
        mdlen = MD5_DIGEST_LENGTH;
        break;
    }
    }
    load_be(md, mdlen, &h);
    return ring_digest_vnode(r, &h);
}

int ring_u256_parse_hex(const char *s, size_t len, ring_u256_t *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        if (out->w[0] >> 60)
            return -1; /* more than 256 bits */
        out->w[0] = (out->w[0] << 4) | (out->w[1] >> 60);
        out->w[1] = (out->w[1] << 4) | (out->w[2] >> 60);
        out->w[2] = (out->w[2] << 4) | (out->w[3] >> 60);
        out->w[3] = (out->w[3] << 4) | d;
    }
    return 0;
}

/* Lower-case hex of whole bytes, as node-fash writes VNODE_HASH_INTERVAL:
 * bignum's toString(16) is OpenSSL's BN_bn2hex lower-cased, which drops
 * leading zero bytes but prints each byte as two digits, so an odd number
 * of significant digits gets a leading '0' (N=10007: "068c8c..."). */
void ring_u256_hex(const ring_u256_t *v, char *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[65];
    int i, n = 0, start = 0;

    for (i = 0; i < 64; i++) {
        uint64_t w = v->w[i / 16];
        tmp[n++] = digits[(w >> (60 - 4 * (i % 16))) & 0xf];
    }
    tmp[n] = '\0';
    while (start < 62 && tmp[start] == '0' && tmp[start + 1] == '0')
        start += 2;
    if (len > 0)
        snprintf(buf, len, "%s", tmp + start);
}
