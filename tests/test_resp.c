/*
 * test_resp.c - the RESP request parser and reply scanner: whole frames,
 * frames fed one byte at a time, inline commands, every malformed case
 * and the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp.h"

/* Feeds s in pieces of step bytes; returns the final status and how many
 * bytes of s the request took. */
static int feed(resp_parser_t *p, const char *s, size_t len, size_t step, size_t *took)
{
    size_t off = 0;
    int rc = RESP_AGAIN;
    while (off < len) {
        size_t n = len - off < step ? len - off : step, used = 0;
        rc = resp_parse(p, s + off, n, &used);
        off += used;
        if (rc != RESP_AGAIN)
            break;
        assert_int_equal(used, n);
    }
    *took = off;
    return rc;
}

static void expect_args(resp_parser_t *p, const char *base, const char *const *want, size_t n)
{
    assert_int_equal(p->nargs, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p->args[i].len, strlen(want[i]));
        assert_memory_equal(base + p->args[i].off, want[i], strlen(want[i]));
    }
}

static void t_multibulk_whole_and_split(void **state)
{
    static const char req[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nv\r\nlu\r\n*1\r\n$4\r\nPING\r\n";
    static const char *const want[] = { "SET", "key", "v\r\nlu" };
    size_t first = strlen("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nv\r\nlu\r\n");
    for (size_t step = 1; step <= sizeof(req); step++) {
        resp_parser_t p;
        size_t took;
        resp_parser_init(&p, 1 << 20);
        assert_int_equal(feed(&p, req, sizeof(req) - 1, step, &took), RESP_OK);
        assert_int_equal(took, first);
        assert_int_equal(p.pos, first);
        assert_false(p.is_inline);
        expect_args(&p, req, want, 3);
        /* The next request follows in the same bytes. */
        resp_parser_reset(&p);
        static const char *const ping[] = { "PING" };
        assert_int_equal(feed(&p, req + first, sizeof(req) - 1 - first, step, &took), RESP_OK);
        expect_args(&p, req + first, ping, 1);
        resp_parser_free(&p);
    }
}

static void t_incomplete_needs_more(void **state)
{
    static const char req[] = "*2\r\n$3\r\nGET\r\n$3\r\nke";
    resp_parser_t p;
    size_t took;
    resp_parser_init(&p, 1 << 20);
    assert_int_equal(feed(&p, req, sizeof(req) - 1, 4, &took), RESP_AGAIN);
    assert_int_equal(p.pos, sizeof(req) - 1);
    assert_int_equal(feed(&p, "y\r\n", 3, 1, &took), RESP_OK);
    assert_int_equal(p.pos, sizeof(req) - 1 + 3);
    resp_parser_free(&p);
}

static void t_empty_multibulk_is_skipped(void **state)
{
    static const char *const reqs[] = { "*0\r\n", "*-1\r\n" };
    for (size_t i = 0; i < 2; i++) {
        resp_parser_t p;
        size_t took;
        resp_parser_init(&p, 1 << 20);
        assert_int_equal(feed(&p, reqs[i], strlen(reqs[i]), 1, &took), RESP_OK);
        assert_int_equal(p.nargs, 0);
        assert_int_equal(took, strlen(reqs[i]));
        resp_parser_free(&p);
    }
}

static void t_inline(void **state)
{
    static const char req[] = "set  \"a b\\x41\\n\" 'it\\'s' plain\r\nPING\n";
    static const char *const want[] = { "set", "a bA\n", "it's", "plain" };
    for (size_t step = 1; step <= sizeof(req); step++) {
        resp_parser_t p;
        size_t took;
        resp_parser_init(&p, 1 << 20);
        assert_int_equal(feed(&p, req, sizeof(req) - 1, step, &took), RESP_OK);
        assert_true(p.is_inline);
        assert_int_equal(took, strlen("set  \"a b\\x41\\n\" 'it\\'s' plain\r\n"));
        expect_args(&p, p.inl, want, 4);
        resp_parser_reset(&p);
        static const char *const ping[] = { "PING" };
        assert_int_equal(feed(&p, req + took, sizeof(req) - 1 - took, step, &took), RESP_OK);
        expect_args(&p, p.inl, ping, 1);
        resp_parser_free(&p);
    }
}

static void t_inline_empty_line(void **state)
{
    resp_parser_t p;
    size_t took;
    resp_parser_init(&p, 1 << 20);
    assert_int_equal(feed(&p, "  \r\n", 4, 1, &took), RESP_OK);
    assert_int_equal(p.nargs, 0);
    resp_parser_free(&p);
}

static void expect_error(const char *req, size_t len, uint64_t max, const char *err)
{
    for (size_t step = 1; step <= len; step++) {
        resp_parser_t p;
        size_t took;
        resp_parser_init(&p, max);
        assert_int_equal(feed(&p, req, len, step, &took), RESP_ERROR);
        assert_string_equal(p.err, err);
        resp_parser_free(&p);
    }
}

static void t_malformed(void **state)
{
    static const struct { const char *req, *err; } cases[] = {
        { "*x\r\n", "Protocol error: invalid multibulk length" },
        { "*\r\n", "Protocol error: invalid multibulk length" },
        { "*1x\r\n", "Protocol error: invalid multibulk length" },
        { "*01\r\n", "Protocol error: invalid multibulk length" },
        { "*1\rx", "Protocol error: invalid multibulk length" },
        { "*-0\r\n", "Protocol error: invalid multibulk length" },
        { "*99999999999999999999\r\n", "Protocol error: invalid multibulk length" },
        { "*2000000\r\n", "Protocol error: invalid multibulk length" },
        { "*1\r\n:3\r\n", "Protocol error: expected '$', got ':'" },
        { "*1\r\n*1\r\n$1\r\na\r\n", "Protocol error: expected '$', got '*'" },
        { "*1\r\n$-1\r\n", "Protocol error: invalid bulk length" },
        { "*1\r\n$x\r\n", "Protocol error: invalid bulk length" },
        { "*1\r\n$\r\n", "Protocol error: invalid bulk length" },
        { "*1\r\n$3\r\nabcde", "Protocol error: expected CRLF after bulk argument" },
        { "*1\r\n$3\r\nabc\rx", "Protocol error: expected CRLF after bulk argument" },
        { "set \"abc\r\n", "Protocol error: unbalanced quotes in request" },
        { "set \"abc\"x\r\n", "Protocol error: unbalanced quotes in request" },
        { "set 'abc\r\n", "Protocol error: unbalanced quotes in request" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].req, strlen(cases[i].req), 1 << 20, cases[i].err);
}

static void t_limits(void **state)
{
    /* A bulk longer than the limit is refused from its header alone. */
    expect_error("*1\r\n$2000\r\n", 11, 1024, "Protocol error: invalid bulk length");
    /* So is a request whose bulks add up past it. */
    char req[2048];
    int n = snprintf(req, sizeof(req), "*2\r\n$600\r\n");
    memset(req + n, 'a', 600);
    n += 600;
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n$600\r\n");
    expect_error(req, (size_t)n, 1024, "Protocol error: request too big");
    /* An inline line without its end may not grow past 64 KB. */
    size_t big = RESP_INLINE_MAX + 10;
    char *line = malloc(big);
    memset(line, 'a', big);
    resp_parser_t p;
    size_t took;
    resp_parser_init(&p, 1 << 20);
    assert_int_equal(feed(&p, line, big, 4096, &took), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big inline request");
    resp_parser_free(&p);
    free(line);
}

static void t_large_bulk_is_skipped(void **state)
{
    size_t len = 100000;
    char *req = malloc(len + 64);
    int n = snprintf(req, 64, "*1\r\n$%zu\r\n", len);
    memset(req + n, 'z', len);
    memcpy(req + n + len, "\r\n", 2);
    resp_parser_t p;
    size_t took;
    resp_parser_init(&p, 1 << 20);
    assert_int_equal(feed(&p, req, (size_t)n + len + 2, 7000, &took), RESP_OK);
    assert_int_equal(p.args[0].off, (size_t)n);
    assert_int_equal(p.args[0].len, len);
    resp_parser_free(&p);
    free(req);
}

static size_t scan_all(const char *s, size_t len, size_t step, int *rc)
{
    resp_scan_t sc;
    size_t off = 0;
    resp_scan_init(&sc);
    *rc = RESP_AGAIN;
    while (off < len && *rc == RESP_AGAIN) {
        size_t n = len - off < step ? len - off : step, used = 0;
        *rc = resp_scan(&sc, s + off, n, &used);
        off += used;
    }
    return *rc == RESP_OK ? sc.pos : 0;
}

/* Each reply, split at every step, is found whole and alone. */
static void expect_whole_replies(const char *const *replies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(replies[i]);
        char buf[256];
        /* Followed by another reply, which must not be taken. */
        snprintf(buf, sizeof(buf), "%s+NEXT\r\n", replies[i]);
        for (size_t step = 1; step <= len + 7; step++) {
            int rc;
            assert_int_equal(scan_all(buf, len + 7, step, &rc), len);
            assert_int_equal(rc, RESP_OK);
        }
        assert_int_equal(resp_reply_len(buf, len + 7), len);
        assert_int_equal(resp_reply_len(buf, len - 1), 0);
    }
}

static void t_scan_replies(void **state)
{
    static const char *const replies[] = {
        "+OK\r\n", "-ERR bad\r\n", ":42\r\n", "$3\r\nfoo\r\n", "$0\r\n\r\n", "$-1\r\n",
        "*-1\r\n", "*0\r\n", "*2\r\n$1\r\na\r\n$-1\r\n",
        "*3\r\n*2\r\n:1\r\n*1\r\n+x\r\n$2\r\n\r\n\r\n:5\r\n",
        "*2\r\n*0\r\n*1\r\n*1\r\n*1\r\n-E\r\n",
        "%1\r\n+k\r\n:1\r\n", "~2\r\n#t\r\n,1.5\r\n", "_\r\n", "=7\r\ntxt:abc\r\n",
    };
    expect_whole_replies(replies, sizeof(replies) / sizeof(replies[0]));
}

/* RESP3 types as Redis 7 sends them to a HELLO 3 client. */
static void t_scan_resp3(void **state)
{
    static const char *const replies[] = {
        "_\r\n", "#f\r\n", ",-inf\r\n", ",3.14e-5\r\n",
        "(3492890328409238509324850943850943825024385\r\n", "!9\r\nERR x y z\r\n",
        "=15\r\ntxt:Some string\r\n", "%0\r\n", "~0\r\n",
        /* HELLO 3's map, with a nested map and an empty array. */
        "%3\r\n$5\r\nproto\r\n:3\r\n$1\r\nm\r\n%1\r\n+a\r\n%1\r\n_\r\n~1\r\n,1\r\n"
        "$7\r\nmodules\r\n*0\r\n",
        /* An attribute belongs to the reply after it, at the top and nested. */
        "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n",
        "*2\r\n|1\r\n+a\r\n%1\r\n+b\r\n:1\r\n:2\r\n_\r\n",
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n",
    };
    expect_whole_replies(replies, sizeof(replies) / sizeof(replies[0]));
    static const char *const bad[] = { "%x\r\n", "|1x\r\n", "~4294967296\r\n",
                                       "|4294967296\r\n", "=z\r\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;
        scan_all(bad[i], strlen(bad[i]), 1, &rc);
        assert_int_equal(rc, RESP_ERROR);
    }
}

static void t_scan_bad(void **state)
{
    static const char *const bad[] = {
        "?x\r\n", "$x\r\n", "*1x\r\n", "$3\rz",
        /* Aggregate counts past 2^32 (found by fuzz_resp: they overflowed
         * the count of pending elements). */
        "*4294967296\r\n", "%999999999999999999\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;
        scan_all(bad[i], strlen(bad[i]), 1, &rc);
        assert_int_equal(rc, RESP_ERROR);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_multibulk_whole_and_split),
        cmocka_unit_test(t_incomplete_needs_more),
        cmocka_unit_test(t_empty_multibulk_is_skipped),
        cmocka_unit_test(t_inline),
        cmocka_unit_test(t_inline_empty_line),
        cmocka_unit_test(t_malformed),
        cmocka_unit_test(t_limits),
        cmocka_unit_test(t_large_bulk_is_skipped),
        cmocka_unit_test(t_scan_replies),
        cmocka_unit_test(t_scan_resp3),
        cmocka_unit_test(t_scan_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
