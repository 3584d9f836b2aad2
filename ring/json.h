/*
 * json.h - the little JSON the ring image needs: a cursor that reads
 * numbers, strings, arrays and objects in place, and a growable buffer that
 * writes them. Shared by ring/ and anything that prints JSON.
 */
#ifndef RING_JSON_H
#define RING_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *p, *end;
} json_cur_t;

void json_init(json_cur_t *c, const char *s, size_t len);
/* Skips white space; returns the next byte or 0 at the end. */
int json_peek(json_cur_t *c);
/* Consumes ch (after white space); -1 if the next byte is something else. */
int json_expect(json_cur_t *c, char ch);
/* Non-negative integer with no fraction or exponent. */
int json_uint(json_cur_t *c, uint64_t *out);
/* A string, unescaped into a malloc'd NUL-terminated buffer. Strings with
 * \u0000 are refused. */
int json_string(json_cur_t *c, char **out, size_t *len);
/* A string without escapes, returned in place (no copy); -1 otherwise. */
int json_string_raw(json_cur_t *c, const char **s, size_t *len);
/* Any value, validated and skipped. */
int json_skip(json_cur_t *c);
/* Only white space remains. */
int json_at_end(json_cur_t *c);
/* Opens an array or object (open is '[' or '{'): 1 if an element follows,
 * 0 if it is empty (its close consumed), -1 if the next byte is not open.
 * With json_next it walks the elements:
 *   for (more = json_begin(c, '['); more == 1; more = json_next(c, ']'))
 *       read one element;
 *   more < 0 here means malformed. */
int json_begin(json_cur_t *c, char open);
/* Inside an array or object after an element: 1 if another follows (the
 * comma is consumed), 0 if close (consumed), -1 on anything else. */
int json_next(json_cur_t *c, char close);

/* A growable output buffer. */
typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} json_buf_t;

void json_buf_init(json_buf_t *b);
void json_buf_free(json_buf_t *b);
void json_put(json_buf_t *b, const char *s, size_t len);
void json_puts(json_buf_t *b, const char *s);
void json_printf(json_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a quoted JSON string. */
void json_put_str(json_buf_t *b, const char *s, size_t len);
/* Takes the buffer (NUL-terminated) and resets b; NULL if out of memory. */
char *json_buf_take(json_buf_t *b, size_t *len);

#endif
