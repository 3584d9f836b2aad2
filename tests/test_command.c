/*
 * test_command.c - the command table: lookup in any case, arity, key
 * positions (fixed, stepped, numkeys) and the table's order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "command.h"

static void t_lookup(void **state)
{
    const command_t *c = command_lookup("GET", 3);
    assert_non_null(c);
    assert_string_equal(c->name, "get");
    assert_ptr_equal(command_lookup("gEt", 3), c);
    /* Prefixes, extensions and unknown names are not found. */
    assert_null(command_lookup("GE", 2));
    assert_null(command_lookup("GETX", 4));
    assert_null(command_lookup("NOSUCH", 6));
    assert_null(command_lookup("", 0));
    /* Only the given bytes count. */
    assert_non_null(command_lookup("SETEXTRA", 5));
    assert_string_equal(command_lookup("SETEXTRA", 5)->name, "setex");
    assert_non_null(command_lookup("restore-asking", 14));
    assert_non_null(command_lookup("bitfield_ro", 11));
    assert_non_null(command_lookup("ring", 4));
}

static void t_every_entry_is_found(void **state)
{
    /* Binary search finds each name only if the table is sorted. */
    static const char *const names[] = {
        "append", "bitop", "del", "eval", "evalsha", "exists", "expire", "hset", "incr",
        "keys", "lpush", "mget", "mset", "pfcount", "rename", "sadd", "scan", "set", "zadd",
        "zunionstore", "xadd", "flushall", "multi", "subscribe", "ping", "hello", "command",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const command_t *c = command_lookup(names[i], strlen(names[i]));
        assert_non_null(c);
        assert_string_equal(c->name, names[i]);
    }
    assert_true(command_count() > 200);
}

static void t_flags(void **state)
{
    assert_true(command_lookup("set", 3)->flags & CMD_WRITE);
    assert_false(command_lookup("get", 3)->flags & CMD_WRITE);
    assert_true(command_lookup("eval", 4)->flags & CMD_WRITE);
    assert_false(command_lookup("eval_ro", 7)->flags & CMD_WRITE);
    assert_true(command_lookup("mget", 4)->flags & CMD_MULTI);
    assert_true(command_lookup("del", 3)->flags & CMD_MULTI);
    assert_true(command_lookup("ping", 4)->flags & CMD_PROXY);
    assert_true(command_lookup("ring", 4)->flags & CMD_PROXY);
    static const char *const handshake[] = {"client", "info", "time", "reset", "readonly",
                                            "readwrite"};
    for (size_t i = 0; i < sizeof(handshake) / sizeof(handshake[0]); i++)
        assert_true(command_lookup(handshake[i], strlen(handshake[i]))->flags & CMD_PROXY);
    /* Redis 7.0 lets only these through before AUTH; PING is not one. */
    assert_true(command_lookup("reset", 5)->flags & CMD_NOAUTH);
    assert_false(command_lookup("ping", 4)->flags & CMD_NOAUTH);
    static const char *const unsupported[] = {
        "keys", "scan", "flushall", "flushdb", "multi", "exec", "watch", "monitor",
        "cluster", "migrate", "move", "debug", "shutdown", "blpop", "wait",
    };
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        assert_true(command_lookup(unsupported[i], strlen(unsupported[i]))->flags & CMD_UNSUPPORTED);
    assert_false(command_lookup("rename", 6)->flags & CMD_UNSUPPORTED);
    /* Pub/sub: subscriptions are the proxy's, PUBLISH goes by channel. */
    assert_true(command_lookup("subscribe", 9)->flags & CMD_PROXY);
    assert_int_equal(command_lookup("publish", 7)->first, 1);
}

static void t_arity(void **state)
{
    const command_t *get = command_lookup("get", 3), *set = command_lookup("set", 3);
    assert_false(command_arity_ok(get, 1));
    assert_true(command_arity_ok(get, 2));
    assert_false(command_arity_ok(get, 3));
    assert_false(command_arity_ok(set, 2));
    assert_true(command_arity_ok(set, 3));
    assert_true(command_arity_ok(set, 7));
}

/* Builds args for the words of s (space separated) and returns the keys. */
static long keys_of(const char *s, size_t *keys, size_t cap)
{
    static resp_arg_t args[32];
    size_t argc = 0, i = 0, len = strlen(s);
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        args[argc].off = i;
        args[argc].len = j - i;
        argc++;
        i = j + 1;
    }
    const command_t *c = command_lookup(s + args[0].off, args[0].len);
    assert_non_null(c);
    return command_keys(c, s, args, argc, keys, cap);
}

static void t_keys(void **state)
{
    size_t k[16];
    assert_int_equal(keys_of("GET a", k, 16), 1);
    assert_int_equal(k[0], 1);
    assert_int_equal(keys_of("MSET a 1 b 2 c 3", k, 16), 3);
    assert_int_equal(k[0], 1);
    assert_int_equal(k[1], 3);
    assert_int_equal(k[2], 5);
    assert_int_equal(keys_of("RENAME a b", k, 16), 2);
    assert_int_equal(k[1], 2);
    assert_int_equal(keys_of("BITOP AND d a b", k, 16), 3);
    assert_int_equal(k[0], 2);
    assert_int_equal(keys_of("EVAL script 2 a b arg", k, 16), 2);
    assert_int_equal(k[0], 3);
    assert_int_equal(k[1], 4);
    assert_int_equal(keys_of("EVAL script 0", k, 16), 0);
    assert_int_equal(keys_of("ZUNIONSTORE d 2 a b WEIGHTS 1 2", k, 16), 3);
    assert_int_equal(k[0], 1);
    assert_int_equal(k[1], 3);
    assert_int_equal(k[2], 4);
    assert_int_equal(keys_of("ZINTER 2 a b", k, 16), 2);
    assert_int_equal(k[0], 2);
    /* numkeys that is not a number or points past the end */
    assert_int_equal(keys_of("EVAL script x a", k, 16), -1);
    assert_int_equal(keys_of("EVAL script 3 a b", k, 16), -1);
    /* cap bounds the output */
    assert_int_equal(keys_of("DEL a b c d", k, 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_lookup),
        cmocka_unit_test(t_every_entry_is_found),
        cmocka_unit_test(t_flags),
        cmocka_unit_test(t_arity),
        cmocka_unit_test(t_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
