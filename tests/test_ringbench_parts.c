/*
 * test_ringbench_parts.c - ringbench's parts without a network: the latency
 * histogram, key choice, the verifier's bookkeeping and the reply reader.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "histogram.h"
#include "keyspace.h"
#include "reply.h"
#include "verify.h"

/* --- histogram ------------------------------------------------------------ */

static void assert_within(uint64_t got, double want, double rel)
{
    if (fabs((double)got - want) > want * rel)
        fail_msg("got %llu, want %.1f within %.2f%%", (unsigned long long)got, want, rel * 100);
}

static void test_hist_uniform(void **state)
{
    histogram_t *h = histogram_new();
    for (uint64_t v = 1; v <= 10000; v++)
        histogram_record(h, v);
    assert_int_equal(histogram_count(h), 10000);
    assert_int_equal(histogram_min(h), 1);
    assert_int_equal(histogram_max(h), 10000);
    /* nearest rank over 1..10000: the p-th percentile is 100 * p */
    assert_within(histogram_percentile(h, 50), 5000, 0.01);
    assert_within(histogram_percentile(h, 90), 9000, 0.01);
    assert_within(histogram_percentile(h, 99), 9900, 0.01);
    assert_within(histogram_percentile(h, 99.9), 9990, 0.01);
    assert_int_equal(histogram_percentile(h, 100), 10000);
    assert_int_equal(histogram_percentile(h, 0.01), 1);
    assert_true(fabs(histogram_mean(h) - 5000.5) < 1e-9);
    /* values below 256 are exact */
    assert_int_equal(histogram_percentile(h, 2), 200);
    histogram_free(h);
}

static void test_hist_constant(void **state)
{
    histogram_t *h = histogram_new();
    for (int i = 0; i < 10000; i++)
        histogram_record(h, 123457);
    double ps[] = {0.1, 50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        assert_int_equal(histogram_percentile(h, ps[i]), 123457);
    histogram_free(h);
}

static void test_hist_bimodal(void **state)
{
    histogram_t *h = histogram_new();
    for (int i = 0; i < 900; i++)
        histogram_record(h, 100);
    for (int i = 0; i < 100; i++)
        histogram_record(h, 50000);
    assert_int_equal(histogram_percentile(h, 50), 100);
    assert_int_equal(histogram_percentile(h, 90), 100);
    assert_within(histogram_percentile(h, 90.1), 50000, 0.01);
    assert_int_equal(histogram_percentile(h, 99), 50000);
    assert_int_equal(histogram_max(h), 50000);
    histogram_free(h);
}

static void test_hist_single_and_empty(void **state)
{
    histogram_t *h = histogram_new();
    assert_int_equal(histogram_percentile(h, 50), 0);
    assert_int_equal(histogram_count(h), 0);
    assert_int_equal(histogram_min(h), 0);
    histogram_record(h, 987654321);
    assert_int_equal(histogram_percentile(h, 1), 987654321);
    assert_int_equal(histogram_percentile(h, 50), 987654321);
    assert_int_equal(histogram_percentile(h, 100), 987654321);
    histogram_reset(h);
    assert_int_equal(histogram_count(h), 0);
    histogram_free(h);
}

/* Any value, wherever it falls in its bucket, comes back within 1%. */
static void test_hist_precision(void **state)
{
    histogram_t *h = histogram_new();
    for (double x = 1; x < 1e15; x *= 1.07) {
        uint64_t v = (uint64_t)x;
        histogram_reset(h);
        /* 1 and 2^60 around it keep the min/max clamp out of the way */
        histogram_record(h, 1);
        histogram_record(h, v);
        histogram_record(h, v);
        histogram_record(h, (uint64_t)1 << 60);
        assert_within(histogram_percentile(h, 50), (double)v, 0.01);
    }
    histogram_record(h, UINT64_MAX);
    assert_int_equal(histogram_max(h), UINT64_MAX);
    histogram_free(h);
}

/* --- key choice ----------------------------------------------------------- */

static void test_keys_uniform(void **state)
{
    char err[KEYSPACE_ERRLEN];
    keyspace_t *ks = keyspace_new(100, "uniform", 42, err);
    assert_non_null(ks);
    unsigned counts[100] = {0};
    for (int i = 0; i < 1000000; i++) {
        uint32_t k = keyspace_next(ks);
        assert_true(k < 100);
        counts[k]++;
    }
    /* 10000 expected each, standard deviation ~100 */
    for (int k = 0; k < 100; k++)
        assert_within(counts[k], 10000, 0.05);
    keyspace_free(ks);
}

static void check_zipf(double s, uint32_t n)
{
    char err[KEYSPACE_ERRLEN], dist[32];
    snprintf(dist, sizeof(dist), "zipf:%g", s);
    keyspace_t *ks = keyspace_new(n, dist, 7, err);
    assert_non_null(ks);
    enum { DRAWS = 1000000, TOP = 10 };
    unsigned top[TOP] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint32_t k = keyspace_next(ks);
        assert_true(k < n);
        if (k < TOP)
            top[k]++;
    }
    double hn = 0;
    for (uint32_t k = 1; k <= n; k++)
        hn += pow(k, -s);
    for (int k = 0; k < TOP; k++)
        assert_within(top[k], DRAWS * pow(k + 1, -s) / hn, 0.05);
    keyspace_free(ks);
}

static void test_keys_zipf(void **state)
{
    check_zipf(0.99, 1000);
    check_zipf(1.0, 10000);
    check_zipf(2.0, 100);
    check_zipf(0.5, 1000);
}

static void test_keys_seeded(void **state)
{
    char err[KEYSPACE_ERRLEN];
    keyspace_t *a = keyspace_new(1000000, "zipf:0.99", 5, err);
    keyspace_t *b = keyspace_new(1000000, "zipf:0.99", 5, err);
    keyspace_t *c = keyspace_new(1000000, "zipf:0.99", 6, err);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t ka = keyspace_next(a), kc = keyspace_next(c);
        assert_int_equal(ka, keyspace_next(b));
        differ += ka != kc;
    }
    assert_true(differ > 100);
    keyspace_free(a);
    keyspace_free(b);
    keyspace_free(c);
}

static void test_keys_bad(void **state)
{
    char err[KEYSPACE_ERRLEN];
    const char *bad[] = {"zipf:", "zipf:0", "zipf:-1", "zipf:abc", "zipf:1x", "zipf:11",
                         "pareto", "", "zipf:nan", "Uniform"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_null(keyspace_new(10, bad[i], 1, err));
        assert_non_null(strstr(err, "bad distribution"));
    }
    assert_null(keyspace_new(0, "uniform", 1, err));
    assert_null(keyspace_new(KEYSPACE_MAX + 1, "uniform", 1, err));
    char key[KEYSPACE_KEYLEN];
    assert_int_equal(keyspace_key(4294967295u, key), 13);
    assert_string_equal(key, "rb:4294967295");
}

/* --- the verifier ---------------------------------------------------------- */

/* The check of a read of key k, sent with floor f, that returned key vk's
 * write seq. */
static verify_status_t read_as(verify_t *v, uint32_t k, uint32_t vk, uint64_t floor,
                               uint64_t seq)
{
    char buf[64];
    size_t len = verify_value(buf, sizeof(buf), vk, seq, 20);
    return verify_read_check(v, k, floor, buf, len, 0);
}

static verify_status_t read_seq(verify_t *v, uint32_t k, uint64_t floor, uint64_t seq)
{
    return read_as(v, k, k, floor, seq);
}

/* A write of key k sent with nothing else in between, and its outcome. */
static void write_one(verify_t *v, uint32_t k, verify_outcome_t outcome)
{
    verify_write_t w;
    verify_write_begin(v, k, &w);
    verify_write_end(v, k, &w, outcome);
}

static void test_verify_value(void **state)
{
    char buf[64];
    assert_int_equal(verify_value(buf, sizeof(buf), 5, 7, 20), 20);
    assert_memory_equal(buf, "rb:5|7|.............", 20);
    /* too small a size still holds key and sequence */
    assert_int_equal(verify_value(buf, sizeof(buf), 123, 45678, 3), 13);
    assert_memory_equal(buf, "rb:123|45678|", 13);
}

static void test_verify_sequential(void **state)
{
    verify_t *v = verify_new(10);
    verify_write_t w1, w2;
    /* nothing acknowledged yet: anything goes, even another run's data */
    assert_int_equal(verify_read_begin(v, 3), 0);
    assert_int_equal(verify_read_check(v, 3, 0, NULL, 0, 1), VERIFY_OK);
    assert_int_equal(verify_read_check(v, 3, 0, "junk", 4, 0), VERIFY_OK);
    assert_false(verify_written(v, 3));

    verify_write_begin(v, 3, &w1);
    assert_int_equal(w1.seq, 1);
    assert_true(verify_written(v, 3));
    verify_write_end(v, 3, &w1, VERIFY_ACKED);
    uint64_t f = verify_read_begin(v, 3);
    assert_int_equal(f, 1);
    assert_int_equal(read_seq(v, 3, f, 1), VERIFY_OK);
    assert_int_equal(verify_read_check(v, 3, f, NULL, 0, 1), VERIFY_MISSING);

    verify_write_begin(v, 3, &w2);
    assert_int_equal(w2.seq, 2);
    /* a read sent while w2 is in flight may see either */
    uint64_t during = verify_read_begin(v, 3);
    verify_write_end(v, 3, &w2, VERIFY_ACKED);
    assert_int_equal(read_seq(v, 3, during, 1), VERIFY_OK);
    assert_int_equal(read_seq(v, 3, during, 2), VERIFY_OK);
    /* a read sent after w2's ack must not see w1 */
    f = verify_read_begin(v, 3);
    assert_int_equal(read_seq(v, 3, f, 1), VERIFY_STALE);
    assert_int_equal(read_seq(v, 3, f, 2), VERIFY_OK);
    assert_int_equal(read_seq(v, 3, f, 3), VERIFY_UNSENT);
    assert_int_equal(read_as(v, 3, 4, f, 2), VERIFY_WRONG_KEY);
    assert_int_equal(verify_read_check(v, 3, f, "rb:3|2|", 7, 0), VERIFY_OK);
    const char *bad[] = {"", "rb:3", "rb:3|", "rb:3||", "rb:3|2", "rb:3|2|x", "rb:3|x|",
                         "|2|", "rb:3|99999999999999999999999|"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_read_check(v, 3, f, bad[i], strlen(bad[i]), 0),
                         VERIFY_MALFORMED);
    assert_int_equal(verify_read_check(v, 3, f, "rb:3|0|", 7, 0), VERIFY_UNSENT);
    verify_free(v);
}

/* Writes in flight together may land in either order. */
static void test_verify_overlap(void **state)
{
    verify_t *v = verify_new(4);
    verify_write_t w1, w3;
    verify_write_begin(v, 0, &w1);
    write_one(v, 0, VERIFY_ACKED); /* w2, sent and acknowledged while w1 is in flight */
    uint64_t f = verify_read_begin(v, 0);
    assert_int_equal(read_seq(v, 0, f, 1), VERIFY_OK); /* w1 may land after w2 */
    verify_write_end(v, 0, &w1, VERIFY_ACKED);
    f = verify_read_begin(v, 0);
    assert_int_equal(read_seq(v, 0, f, 1), VERIFY_OK);
    assert_int_equal(read_seq(v, 0, f, 2), VERIFY_OK);
    /* w3 was sent after both completed: once it is acknowledged, both are stale */
    verify_write_begin(v, 0, &w3);
    assert_int_equal(w3.base, 2);
    verify_write_end(v, 0, &w3, VERIFY_ACKED);
    f = verify_read_begin(v, 0);
    assert_int_equal(f, 3);
    assert_int_equal(read_seq(v, 0, f, 1), VERIFY_STALE);
    assert_int_equal(read_seq(v, 0, f, 2), VERIFY_STALE);
    assert_int_equal(read_seq(v, 0, f, 3), VERIFY_OK);
    verify_free(v);
}

/* A refused write raises nothing; an unknown one may land any time. */
static void test_verify_refused_unknown(void **state)
{
    verify_t *v = verify_new(4);
    write_one(v, 1, VERIFY_ACKED);   /* w1 */
    write_one(v, 1, VERIFY_REFUSED); /* w2 */
    uint64_t f = verify_read_begin(v, 1);
    assert_int_equal(f, 1);
    assert_int_equal(read_seq(v, 1, f, 1), VERIFY_OK);
    write_one(v, 1, VERIFY_UNKNOWN); /* w3 */
    write_one(v, 1, VERIFY_ACKED);   /* w4 */
    f = verify_read_begin(v, 1);
    /* w3 might be applied after w4, so seq 3 stays legal; 1 and 2 had
     * settled before w4 was sent */
    assert_int_equal(f, 3);
    assert_int_equal(read_seq(v, 1, f, 3), VERIFY_OK);
    assert_int_equal(read_seq(v, 1, f, 4), VERIFY_OK);
    assert_int_equal(read_seq(v, 1, f, 2), VERIFY_STALE);
    assert_int_equal(read_seq(v, 1, f, 1), VERIFY_STALE);
    /* and it stays legal after later writes settle */
    write_one(v, 1, VERIFY_ACKED);
    assert_int_equal(read_seq(v, 1, verify_read_begin(v, 1), 3), VERIFY_OK);
    verify_free(v);
}

static void test_verify_report_and_state(void **state)
{
    verify_t *v = verify_new(20);
    for (uint32_t k = 0; k < 20; k += 2)
        for (int i = 0; i < 3; i++)
            write_one(v, k, VERIFY_ACKED);
    verify_note(v, 4, verify_read_check(v, 4, 3, NULL, 0, 1));
    verify_note(v, 6, read_seq(v, 6, 3, 2));
    verify_note(v, 8, read_as(v, 8, 9, 3, 3));
    verify_note(v, 8, VERIFY_OK);
    assert_int_equal(verify_lost(v), 2);
    assert_int_equal(verify_unexpected(v), 1);
    json_buf_t b;
    json_buf_init(&b);
    verify_report_json(v, &b);
    char *s = json_buf_take(&b, NULL);
    assert_non_null(strstr(s, "\"keys_written\":10,"));
    assert_non_null(strstr(s, "\"lost\":2,\"missing\":1,\"stale\":1,"));
    assert_non_null(strstr(s, "\"lost_keys\":[\"rb:4\",\"rb:6\"]"));
    assert_non_null(strstr(s, "\"unexpected_keys\":[\"rb:8\"]"));
    free(s);

    char path[] = "/tmp/test_ringbench.XXXXXX", err[VERIFY_ERRLEN];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(verify_save(v, path, err), 0);
    verify_t *l = verify_load(path, err);
    assert_non_null(l);
    assert_int_equal(verify_nkeys(l), 20);
    assert_true(verify_written(l, 2));
    assert_false(verify_written(l, 3));
    assert_int_equal(verify_read_begin(l, 2), 3);
    assert_int_equal(read_seq(l, 2, 3, 2), VERIFY_STALE);
    assert_int_equal(read_seq(l, 2, 3, 3), VERIFY_OK);
    assert_int_equal(read_seq(l, 2, 3, 4), VERIFY_UNSENT);
    assert_int_equal(verify_lost(l), 0);
    verify_free(l);

    FILE *f = fopen(path, "w");
    fputs("ringbench-state 1 20\n2 3 4\n", f); /* floor above what was sent */
    fclose(f);
    assert_null(verify_load(path, err));
    assert_string_equal(err + strlen(path), ":2: bad line");
    f = fopen(path, "w");
    fputs("something else\n", f);
    fclose(f);
    assert_null(verify_load(path, err));
    assert_non_null(strstr(err, "not a ringbench state file"));
    unlink(path);
    assert_null(verify_load(path, err));
    assert_non_null(strstr(err, "cannot read"));
    verify_free(v);
}

/* --- replies ---------------------------------------------------------------- */

static void test_reply(void **state)
{
    reply_t r;
    assert_int_equal(reply_parse("+OK\r\n", 5, &r), 5);
    assert_int_equal(r.type, REPLY_STATUS);
    assert_memory_equal(r.str, "OK", 2);
    assert_int_equal(reply_parse("-READONLY vnode 3\r\n", 19, &r), 19);
    assert_int_equal(r.type, REPLY_ERROR);
    assert_int_equal(r.len, 16);
    assert_int_equal(reply_parse(":42\r\n", 5, &r), 5);
    assert_int_equal(r.type, REPLY_INTEGER);
    assert_int_equal(reply_parse("$3\r\na\r\n\r\n", 9, &r), 9);
    assert_int_equal(r.type, REPLY_BULK);
    assert_memory_equal(r.str, "a\r\n", 3);
    assert_int_equal(reply_parse("$0\r\n\r\n", 6, &r), 6);
    assert_int_equal(r.len, 0);
    assert_int_equal(reply_parse("$-1\r\n", 5, &r), 5);
    assert_int_equal(r.type, REPLY_NIL);
    assert_int_equal(reply_parse("*-1\r\n", 5, &r), 5);
    assert_int_equal(r.type, REPLY_NIL);
    const char *arr = "*2\r\n$1\r\nx\r\n*1\r\n:1\r\n+OK\r\n";
    assert_int_equal(reply_parse(arr, strlen(arr), &r), strlen(arr) - 5);
    assert_int_equal(r.type, REPLY_ARRAY);
    /* every proper prefix is incomplete */
    const char *whole = "*2\r\n$5\r\nhello\r\n$-1\r\n";
    for (size_t i = 0; i < strlen(whole); i++)
        assert_int_equal(reply_parse(whole, i, &r), 0);
    const char *bad[] = {"?x\r\n", "$x\r\n", "$-2\r\n", "$3\r\nabcde", "+OK\rx", "*-5\r\n",
                         "\r\n", "$99999999999999\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(reply_parse(bad[i], strlen(bad[i]), &r), -1);
    char deep[64] = "";
    for (int i = 0; i < 10; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    assert_int_equal(reply_parse(deep, strlen(deep), &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_uniform),
        cmocka_unit_test(test_hist_constant),
        cmocka_unit_test(test_hist_bimodal),
        cmocka_unit_test(test_hist_single_and_empty),
        cmocka_unit_test(test_hist_precision),
        cmocka_unit_test(test_keys_uniform),
        cmocka_unit_test(test_keys_zipf),
        cmocka_unit_test(test_keys_seeded),
        cmocka_unit_test(test_keys_bad),
        cmocka_unit_test(test_verify_value),
        cmocka_unit_test(test_verify_sequential),
        cmocka_unit_test(test_verify_overlap),
        cmocka_unit_test(test_verify_refused_unknown),
        cmocka_unit_test(test_verify_report_and_state),
        cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
