/*
 * verify.h - tracks what ringbench wrote so that reads can prove nothing
 * acknowledged was lost.
 *
 * Every SET of key k carries "KEY|SEQ|" padded with '.', where SEQ counts
 * the writes sent to k (1, 2, ...). With many connections and pipelining,
 * several writes to one key may be in flight at once and the server may
 * apply them in any order, so "the highest acknowledged SEQ" is not a safe
 * bound. The bound used is linearizability's: a write W makes every write
 * that had completed before W was sent stale, once W is acknowledged. So
 * each write remembers `base`, the key's settled count when it was sent
 * (every write with SEQ <= base had completed then, because the key had no
 * write in flight when it reached that count), and its acknowledgement
 * raises the key's floor to base + 1. A read may legally return any SEQ >=
 * the floor it saw when it was sent, and never a SEQ that was not sent
 * yet; while the floor is 0 it may return anything (nil, or data from
 * before the run). A write whose outcome is unknown (an
 * error reply other than READONLY, or a dropped connection) may still land
 * at any time, so it pins the key's settled count for good. This never
 * flags a correct server; it can miss a stale read only while writes to
 * the key overlap.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define VERIFY_ERRLEN 256
/* Largest keyspace --verify tracks (32 bytes a key). */
#define VERIFY_MAX_KEYS 10000000u
/* Keys listed by name in a report, per kind. */
#define VERIFY_LIST_MAX 1000u

typedef enum {
    VERIFY_OK = 0,
    VERIFY_MISSING,   /* nil, but a write was acknowledged before: lost */
    VERIFY_STALE,     /* older than the floor: lost */
    VERIFY_MALFORMED, /* not a ringbench value: unexpected */
    VERIFY_WRONG_KEY, /* a value written for another key: unexpected */
    VERIFY_UNSENT,    /* a sequence never sent: unexpected */
} verify_status_t;

typedef struct verify verify_t;

typedef enum {
    VERIFY_ACKED,    /* +OK: the value is stored */
    VERIFY_REFUSED,  /* READONLY: nothing was written */
    VERIFY_UNKNOWN,  /* may or may not have been written, now or later */
} verify_outcome_t;

/* One write, between verify_write_begin and verify_write_end. */
typedef struct {
    uint64_t seq, base;
} verify_write_t;

verify_t *verify_new(uint32_t nkeys);
void verify_free(verify_t *v);
uint32_t verify_nkeys(const verify_t *v);

/* A write of key k is about to be sent: assigns its sequence. */
void verify_write_begin(verify_t *v, uint32_t k, verify_write_t *w);
/* The write's reply (or its loss) arrived. */
void verify_write_end(verify_t *v, uint32_t k, const verify_write_t *w,
                      verify_outcome_t outcome);

/* A read of key k is about to be sent: the floor its reply must meet. */
uint64_t verify_read_begin(const verify_t *v, uint32_t k);
/* Judges a read's reply (nil, or the value's bytes) against that floor. */
verify_status_t verify_read_check(const verify_t *v, uint32_t k, uint64_t floor,
                                  const char *val, size_t len, int nil);
/* Counts a judged read in the totals and remembers its key. */
void verify_note(verify_t *v, uint32_t k, verify_status_t st);

/* Whether any write of k was sent (the keys a full read-back covers). */
int verify_written(const verify_t *v, uint32_t k);

/* Reads that showed a lost write, and reads with an unexpected value. */
uint64_t verify_lost(const verify_t *v);
uint64_t verify_unexpected(const verify_t *v);

/* The value of key k's write seq, padded with '.' to size bytes (longer if
 * size is too small to hold it); returns its length, at most cap. */
size_t verify_value(char *buf, size_t cap, uint32_t k, uint64_t seq, size_t size);

/* The totals, and the keys by kind, as members of a JSON object. */
void verify_report_json(const verify_t *v, json_buf_t *b);
/* The same for people, a few lines. */
void verify_report_text(const verify_t *v, json_buf_t *b);

/* The acknowledged state, to check later with a fresh run (--keep-state,
 * --check-only). Only settled state is saved: call with nothing in flight. */
int verify_save(const verify_t *v, const char *path, char *err);
verify_t *verify_load(const char *path, char *err);

#endif
