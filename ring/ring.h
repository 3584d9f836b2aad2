/*
 * ring.h - the hash ring shared by ringproxy and every tool.
 *
 * A ring maps a key to a vnode (hash the key, divide by the ring's interval)
 * and a vnode to the pnode that owns it. Its on-disk form is node-fash's
 * LevelDB layout (shared/design/ring-image.md); ring_image.c reads and
 * writes it. A ring_t is immutable once built and published, so any number
 * of threads may look keys up in it without locks. The mutators below are
 * for tools that build a changed copy (ring_clone) before storing it.
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>
#include <stdint.h>

/* Every function that can fail returns 0 on success or -1 and writes one
 * line saying what failed into err (RING_ERRLEN bytes, may be NULL). */
#define RING_ERRLEN 512

#define RING_MAX_VNODES 10000000u
#define RING_VERSION "2.1.0"

typedef enum {
    RING_HASH_XXH3 = 0,  /* XXH3 64-bit, seed 0: ringproxy's default */
    RING_HASH_SHA256,    /* node-fash's default */
    RING_HASH_SHA1,
    RING_HASH_MD5,
} ring_algo_t;

/* Per-vnode flags, derived from the vnode's data. */
#define RING_VNODE_RO   0x01 /* data is "ro": writes are refused */
#define RING_VNODE_DATA 0x02 /* the vnode has data (not node-fash's 1) */

/* A 256-bit unsigned integer, most significant limb first. Shorter digests
 * are right-aligned (an md5 digest occupies w[2] and w[3]). */
typedef struct {
    uint64_t w[4];
} ring_u256_t;

typedef struct ring ring_t;

typedef struct {
    uint32_t vnode;
    uint32_t pnode;       /* index into the pnode table */
    const char *name;     /* the pnode's name, e.g. "tcp://127.0.0.1:7001" */
    uint8_t flags;        /* RING_VNODE_* */
} ring_node_t;

/* --- algorithms ---------------------------------------------------------- */

const char *ring_algo_name(ring_algo_t algo);
int ring_algo_parse(const char *name, ring_algo_t *algo);
/* Digest size in bytes: 8, 32, 20 or 16. */
size_t ring_algo_digest_len(ring_algo_t algo);
/* MAX as node-fash writes it: upper-case hex, all F, digest_len * 2 long. */
void ring_algo_max_hex(ring_algo_t algo, char *buf, size_t len);

/* --- building and freeing ------------------------------------------------ */

/* A new ring with vnode count n whose vnodes are assigned round-robin over
 * the given pnode names sorted as byte strings (what fash create does). */
ring_t *ring_new(ring_algo_t algo, uint32_t nvnodes, const char *const *pnodes,
                 size_t npnodes, char *err);
ring_t *ring_clone(const ring_t *r, char *err);
void ring_free(ring_t *r);

/* --- lookups (thread-safe on a published ring) --------------------------- */

/* Key bytes -> vnode, exactly as ring-image.md says (clamp included). */
uint32_t ring_hash_vnode(const ring_t *r, const void *key, size_t len);
/* A digest read as a big-endian integer -> vnode: floor(H / interval),
 * clamped to nvnodes - 1. For xxh3 only w[3] is used. */
uint32_t ring_digest_vnode(const ring_t *r, const ring_u256_t *h);
/* Key bytes -> vnode, pnode and flags. O(1) after hashing. */
void ring_lookup(const ring_t *r, const void *key, size_t len, ring_node_t *out);
/* Vnode -> pnode and flags. v must be < ring_vnode_count(r). */
void ring_vnode_node(const ring_t *r, uint32_t v, ring_node_t *out);

uint32_t ring_vnode_count(const ring_t *r);
ring_algo_t ring_algo(const ring_t *r);
/* The generation: bumped by every change ring-tool stores; 0 for a ring
 * fash made. */
uint64_t ring_generation(const ring_t *r);
void ring_set_generation(ring_t *r, uint64_t gen);
/* The layout version string read from the image ("2.1.0"). */
const char *ring_version(const ring_t *r);

/* The interval floor(MAX / VNODE_COUNT) and its lower-case hex form. */
const ring_u256_t *ring_interval(const ring_t *r);
void ring_interval_hex(const ring_t *r, char *buf, size_t len);

size_t ring_pnode_count(const ring_t *r);
const char *ring_pnode_name(const ring_t *r, size_t idx);
/* Index of the named pnode, or -1. Pnodes are sorted as byte strings. */
long ring_pnode_find(const ring_t *r, const char *name);
/* Number of vnodes a pnode owns (computed when the ring is built). */
uint32_t ring_pnode_vnode_count(const ring_t *r, size_t idx);

/* The data of vnode v: NULL for none (node-fash's 1), else a string such
 * as "ro". */
const char *ring_vnode_data(const ring_t *r, uint32_t v);
/* Vnodes with data, ascending, malloc'd (caller frees); count in *n. */
uint32_t *ring_data_vnodes(const ring_t *r, size_t *n);
size_t ring_data_count(const ring_t *r);
/* Number of vnodes marked ro. */
size_t ring_ro_count(const ring_t *r);

/* --- changing an unpublished ring (tools only) --------------------------- */

/* Adds a pnode that owns nothing yet; returns its index (existing index if
 * the name is already there). Indices of later pnodes shift: look them up
 * again after this call. */
long ring_add_pnode(ring_t *r, const char *name, char *err);
/* Removes a pnode that owns no vnodes. */
int ring_remove_pnode(ring_t *r, const char *name, char *err);
/* Renames a pnode; its vnodes and their data follow it. */
int ring_rename_pnode(ring_t *r, const char *from, const char *to, char *err);
/* Moves vnode v to pnode idx, keeping its data. */
void ring_set_vnode_pnode(ring_t *r, uint32_t v, uint32_t pnode);
/* Sets the data of vnode v; NULL clears it. Every string is data, "null"
 * and "1" too: fash add-data -d null stores the string and lists the vnode
 * in VNODE_DATA, so reading it as "no data" made the image inconsistent. */
int ring_set_vnode_data(ring_t *r, uint32_t v, const char *data, char *err);

/* --- the LevelDB image (ring_image.c) ------------------------------------ */

/* Opens the directory, reads and validates the whole image, closes it.
 * Never keeps the database open; a directory another process holds open
 * fails at once with an error that says so. */
int ring_load(const char *dir, ring_t **out, char *err);

/* An image held open for a read-modify-write by a tool. */
typedef struct ring_image ring_image_t;

/* Opens dir for writing. With create, dir must not hold a ring yet (it is
 * made if missing); without it, dir must hold one. */
int ring_image_open(const char *dir, int create, ring_image_t **out, char *err);
/* Reads and validates the ring in an open image. */
int ring_image_read(ring_image_t *img, ring_t **out, char *err);
/* Stores the difference between old (NULL for a new image) and new as one
 * atomic write batch that also bumps the generation; on success new's
 * generation is the stored one. */
int ring_image_commit(ring_image_t *img, const ring_t *old, ring_t *nw, char *err);
void ring_image_close(ring_image_t *img);

/* --- node-fash's serialized JSON (ring_json.c) --------------------------- */

/* The ring as fash's serialize form; malloc'd, NUL-terminated. Pnodes go
 * in name order and a pnode without vnodes as {}, so that import gives the
 * same ring back. With fash_form, the bytes fash's serialize writes: pnodes
 * in the order of their lowest vnode and none without vnodes (fash's
 * deserialize-ring never finishes a ring whose JSON has a {}). */
char *ring_export_json(const ring_t *r, int fash_form, size_t *len, char *err);
/* A ring from fash's serialize form. */
int ring_import_json(const char *json, size_t len, ring_t **out, char *err);

/* --- helpers shared by the tools and the proxy --------------------------- */

/* Parses a vnode list: "0,106,943", ranges "800-999", entries separated
 * by commas, spaces or both as fash takes them ("0 1 2", "0, 1,2").
 * Every entry must be an integer in [0, nvnodes). Result is sorted and
 * without duplicates; malloc'd into *out, count in *n. With out NULL only
 * the syntax is checked (nvnodes and n unused), as a command line is. */
int ring_parse_vnode_list(const char *s, uint32_t nvnodes, uint32_t **out,
                          size_t *n, char *err);

/* A pnode's address: "tcp://HOST:PORT" or "tls://HOST:PORT". */
typedef struct {
    char host[256];
    uint16_t port;
    int tls;
} ring_addr_t;
int ring_pnode_addr(const char *name, ring_addr_t *out, char *err);

#endif
