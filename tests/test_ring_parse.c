/*
 * test_ring_parse.c - the text the operator types: vnode lists ("0,106,943",
 * spaces, ranges "800-999") and pnode addresses (tcp:// or tls://HOST:PORT,
 * IPv6 in brackets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

#define NVNODES 1000

typedef struct {
    const char *in;
    size_t n;
    uint32_t first, last; /* the sorted result's ends */
    uint32_t sum;         /* and the sum of its entries */
} list_ok_t;

static const list_ok_t good_lists[] = {
    {"0,106,943", 3, 0, 943, 1049},
    {"7", 1, 7, 7, 7},
    {" 5 , 3 ,\t1 ", 3, 1, 5, 9},
    {"800-803", 4, 800, 803, 3206},
    {" 3 - 5 ", 3, 3, 5, 12},
    {"10-12, 11, 5,10", 4, 5, 12, 38},
    {"9,9,9", 1, 9, 9, 9},
    {"4-4", 1, 4, 4, 4},
    {"999", 1, 999, 999, 999},
    {"0-999", 1000, 0, 999, 499500},
    {"990-999,0-9,995", 20, 0, 999, 9990},
    /* fash's separators, /[, ]+/: spaces alone, or commas and spaces. */
    {"0 1 2", 3, 0, 2, 3},
    {"0, 1,2", 3, 0, 2, 3},
    {"0, 106, 943, 689", 4, 0, 943, 1738},
    {"5\t3 1-2 ", 4, 1, 5, 11},
};

typedef struct {
    const char *in;
    const char *want;
} bad_t;

static const bad_t bad_lists[] = {
    {"1000", "vnode 1000 is out of range (the ring has vnodes 0 to 999)"},
    {"5-1000", "vnode 1000 is out of range"},
    {"3,4294967295", "vnode 4294967295 is out of range"},
    {"9-3", "vnode range 9-3 runs backwards"},
    {"", "bad vnode list entry ''"},
    {"  ", "bad vnode list entry ''"},
    {"a", "bad vnode list entry 'a'"},
    {"1,,2", "bad vnode list entry ''"},
    {"1,", "bad vnode list entry ''"},
    {",1", "bad vnode list entry ''"},
    {"1-", "bad vnode list entry '1-'"},
    {"-1", "bad vnode list entry '-1'"},
    {"1.5", "bad vnode list entry '1.5'"},
    {"2,1x,3", "bad vnode list entry '1x'"},
    {"1 x", "bad vnode list entry 'x'"},
    {"1 2x 3", "bad vnode list entry '2x'"},
    {"0x10", "bad vnode list entry '0x10'"},
    {"1-2-3", "bad vnode list entry '1-2-3'"},
    {"4294967296", "bad vnode list entry '4294967296'"},
    {"99999999999999999999999", "bad vnode list entry '99999999999999999999999'"},
};

static void t_vnode_lists(void **state)
{
    char err[RING_ERRLEN];
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(good_lists) / sizeof(good_lists[0]); i++) {
        const list_ok_t *c = &good_lists[i];
        uint32_t *list = NULL, sum = 0;
        size_t n = 0;
        if (ring_parse_vnode_list(c->in, NVNODES, &list, &n, err) < 0)
            fail_msg("'%s': %s", c->in, err);
        assert_int_equal(n, c->n);
        assert_int_equal(list[0], c->first);
        assert_int_equal(list[n - 1], c->last);
        for (j = 0; j < n; j++) {
            sum += list[j];
            if (j > 0 && list[j] <= list[j - 1])
                fail_msg("'%s': not sorted and distinct at %zu", c->in, j);
        }
        assert_int_equal(sum, c->sum);
        free(list);
    }
}

/* With no output only the syntax is checked, as ring-tool checks -v
 * before it opens the ring: ranges need not fit any ring. */
static void t_vnode_list_syntax_only(void **state)
{
    char err[RING_ERRLEN];
    size_t i;

    (void)state;
    assert_int_equal(ring_parse_vnode_list("0-4294967295, 7", 0, NULL, NULL, err), 0);
    assert_int_equal(ring_parse_vnode_list("0 1 2", 0, NULL, NULL, err), 0);
    for (i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
        if (strstr(bad_lists[i].want, "out of range") != NULL)
            continue;
        err[0] = '\0';
        if (ring_parse_vnode_list(bad_lists[i].in, 0, NULL, NULL, err) != -1)
            fail_msg("'%s' was accepted", bad_lists[i].in);
        if (strstr(err, bad_lists[i].want) == NULL)
            fail_msg("'%s': error \"%s\" lacks \"%s\"", bad_lists[i].in, err, bad_lists[i].want);
    }
}

static void t_bad_vnode_lists(void **state)
{
    char err[RING_ERRLEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
        uint32_t *list = NULL;
        size_t n = 0;
        err[0] = '\0';
        if (ring_parse_vnode_list(bad_lists[i].in, NVNODES, &list, &n, err) != -1)
            fail_msg("'%s' was accepted", bad_lists[i].in);
        assert_null(list);
        if (strstr(err, bad_lists[i].want) == NULL)
            fail_msg("'%s': error \"%s\" lacks \"%s\"", bad_lists[i].in, err, bad_lists[i].want);
    }
}

typedef struct {
    const char *name;
    const char *host;
    uint16_t port;
    int tls;
} addr_ok_t;

static const addr_ok_t good_addrs[] = {
    {"tcp://127.0.0.1:6379", "127.0.0.1", 6379, 0},
    {"tls://redis.example.com:6380", "redis.example.com", 6380, 1},
    {"tcp://1.moray.example.com:2020", "1.moray.example.com", 2020, 0},
    {"tcp://[::1]:7001", "::1", 7001, 0},
    {"tls://[2001:db8::1]:65535", "2001:db8::1", 65535, 1},
    {"tcp://h:1", "h", 1, 0},
    {"tcp://my_host-2.Example:6379", "my_host-2.Example", 6379, 0},
    {"tcp://[fe80::1%eth0]:6379", "fe80::1%eth0", 6379, 0},
};

static const char *const bad_addrs[] = {
    "127.0.0.1:6379",      /* no scheme */
    "http://127.0.0.1:80", /* not tcp or tls */
    "TCP://127.0.0.1:80",
    "tcp:/127.0.0.1:80",
    "tcp://127.0.0.1",     /* no port */
    "tcp://127.0.0.1:",
    "tcp://127.0.0.1:0",
    "tcp://127.0.0.1:65536",
    "tcp://127.0.0.1:99999999999999999999",
    "tcp://127.0.0.1:-1",
    "tcp://127.0.0.1:+80",
    "tcp://127.0.0.1: 80",
    "tcp://127.0.0.1:80x",
    "tcp://127.0.0.1:80/",
    "tcp://:6379",         /* no host */
    "tcp://[]:6379",
    "tcp://[::1]6379",     /* bracket without port */
    "tcp://[::1",
    "tcp://[::1]",
    "tcp://a/b:6379",      /* a path is not a host */
    "tcp://a b:1",         /* no host name has a space */
    "tcp://a;b:1",
    "tcp://a@b:1",
    "tcp://::1:6379",      /* IPv6 without brackets */
    "tcp://[::g]:6379",
    "tcp://[::1%]:6379",
    "tcp://[%eth0]:6379",
    "",
};

/* Each kind of bad address says what is wrong with it. */
static const struct {
    const char *name, *why;
} addr_reasons[] = {
    {"tcp://a b:1", "the host has ' ', which a host name cannot have"},
    {"tcp://[::g]:1", "the host has 'g', which an IPv6 address cannot have"},
    {"tcp://a\x01:1", "the host has byte 0x01"},
    {"tcp://a\tb:1", "the host has byte 0x09"},
    {"tcp://\xc3\xa9:1", "the host has byte 0xc3"},
    {"tcp://a:b", "the port is not a number from 1 to 65535"},
    {"tcp://a:70000", "the port is not a number from 1 to 65535"},
    {"tcp://a", "no :PORT"},
    {"tcp://:1", "no host"},
    {"tcp://[::1]", "an IPv6 host must be [ADDR]:PORT"},
};

static void t_pnode_addrs(void **state)
{
    char err[RING_ERRLEN];
    ring_addr_t a;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_addrs) / sizeof(good_addrs[0]); i++) {
        if (ring_pnode_addr(good_addrs[i].name, &a, err) < 0)
            fail_msg("'%s': %s", good_addrs[i].name, err);
        assert_string_equal(a.host, good_addrs[i].host);
        assert_int_equal(a.port, good_addrs[i].port);
        assert_int_equal(a.tls, good_addrs[i].tls);
    }
    for (i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
        err[0] = '\0';
        if (ring_pnode_addr(bad_addrs[i], &a, err) != -1)
            fail_msg("'%s' was accepted as host '%s' port %u", bad_addrs[i], a.host, a.port);
        assert_non_null(strstr(err, "is not an address (want tcp://HOST:PORT or tls://HOST:PORT)"));
        assert_non_null(strstr(err, bad_addrs[i]));
    }
    for (i = 0; i < sizeof(addr_reasons) / sizeof(addr_reasons[0]); i++) {
        if (ring_pnode_addr(addr_reasons[i].name, &a, err) != -1)
            fail_msg("'%s' was accepted", addr_reasons[i].name);
        if (strstr(err, addr_reasons[i].why) == NULL)
            fail_msg("'%s': error \"%s\" lacks \"%s\"", addr_reasons[i].name, err, addr_reasons[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_vnode_lists),
        cmocka_unit_test(t_bad_vnode_lists),
        cmocka_unit_test(t_vnode_list_syntax_only),
        cmocka_unit_test(t_pnode_addrs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
