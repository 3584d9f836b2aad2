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
        "swapdb", "monitor", "save",
        "cluster", "migrate", "move", "debug", "shutdown",
    };
    static const char *const fanout[] = {
        "keys", "scan", "flushall", "flushdb", "dbsize", "randomkey", "wait", "script",
        "function", "lastsave",
    };
    for (size_t i = 0; i < sizeof(fanout) / sizeof(fanout[0]); i++)
        assert_true(command_lookup(fanout[i], strlen(fanout[i]))->flags & CMD_FANOUT);
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        assert_true(command_lookup(unsupported[i], strlen(unsupported[i]))->flags & CMD_UNSUPPORTED);
    assert_false(command_lookup("rename", 6)->flags & CMD_UNSUPPORTED);
    static const char *const txn[] = {"multi", "exec", "discard", "watch", "unwatch"};
    for (size_t i = 0; i < sizeof(txn) / sizeof(txn[0]); i++)
        assert_true(command_lookup(txn[i], strlen(txn[i]))->flags & CMD_TXN);
    static const char *const blocking[] = {"blpop", "brpop", "blmove", "brpoplpush", "bzpopmin",
                                           "bzpopmax", "blmpop", "bzmpop"};
    for (size_t i = 0; i < sizeof(blocking) / sizeof(blocking[0]); i++)
        assert_true(command_lookup(blocking[i], strlen(blocking[i]))->flags & CMD_BLOCK);
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

static resp_arg_t args[32];

/* Splits s (space separated) into args; returns argc. */
static size_t split(const char *s)
{
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
    return argc;
}

static const command_t *command_of(const char *s)
{
    const command_t *c = command_lookup(s, strcspn(s, " "));
    assert_non_null(c);
    return c;
}

/* The keys of the request s. */
static long keys_of(const char *s, size_t *keys, size_t cap)
{
    size_t argc = split(s);
    return command_keys(command_of(s), s, args, argc, keys, cap);
}

static int blocks(const char *s)
{
    size_t argc = split(s);
    return command_blocks(command_of(s), s, args, argc);
}

static int keyless_ok(const char *s)
{
    size_t argc = split(s);
    return command_keyless_ok(command_of(s), s, args, argc);
}

/* Key specs beyond first/last/step: STREAMS, a subcommand, STORE. */
static void t_key_specs(void **state)
{
    size_t k[16];
    (void)state;
    assert_int_equal(keys_of("XREAD COUNT 2 STREAMS a b 0 0", k, 16), 2);
    assert_int_equal(k[0], 4);
    assert_int_equal(k[1], 5);
    /* A group named "streams" is not the keyword. */
    assert_int_equal(keys_of("XREADGROUP GROUP streams c STREAMS a >", k, 16), 1);
    assert_int_equal(k[0], 5);
    assert_int_equal(keys_of("XREAD STREAMS a b 0", k, 16), 1); /* unbalanced */
    assert_int_equal(keys_of("XREAD COUNT 1 STREAMS", k, 16), 0);
    assert_true(blocks("XREAD BLOCK 0 STREAMS a 0"));
    assert_false(blocks("XREAD COUNT 1 STREAMS block 0"));
    assert_int_equal(keys_of("XINFO STREAM s", k, 16), 1);
    assert_int_equal(k[0], 2);
    assert_int_equal(keys_of("XGROUP HELP", k, 16), 0);
    assert_int_equal(keys_of("OBJECT ENCODING o", k, 16), 1);
    assert_int_equal(keys_of("MEMORY USAGE m", k, 16), 1);
    assert_int_equal(keys_of("MEMORY STATS x", k, 16), 0);
    assert_int_equal(keys_of("GEORADIUS g 1 2 3 km STORE d STOREDIST e", k, 16), 3);
    assert_int_equal(k[1], 7);
    assert_int_equal(k[2], 9);
    /* A member named "store" is not the option. */
    assert_int_equal(keys_of("GEORADIUSBYMEMBER g store 3 km", k, 16), 1);
    assert_true(keyless_ok("EVAL s 0"));
    assert_true(keyless_ok("XGROUP HELP"));
    assert_true(keyless_ok("MEMORY USAGE"));
    assert_false(keyless_ok("MEMORY STATS"));
    assert_false(keyless_ok("GET"));
}

static void t_disable(void **state)
{
    char err[128];
    (void)state;
    assert_int_equal(command_disable_list("keys nosuch", 1, err, sizeof(err)), -1);
    assert_string_equal(err, "option disable-commands: no command 'nosuch'");
    assert_false(command_lookup("keys", 4)->flags & CMD_DISABLED); /* nothing applied */
    assert_int_equal(command_disable_list("LASTSAVE  lolwut", 1, err, sizeof(err)), 0);
    assert_true(command_lookup("lastsave", 8)->flags & CMD_DISABLED);
    assert_true(command_lookup("lolwut", 6)->flags & CMD_UNSUPPORTED);
    assert_int_equal(command_disable_list(NULL, 1, err, sizeof(err)), 0);
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
        cmocka_unit_test(t_key_specs),
        cmocka_unit_test(t_disable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
