/*
 * command.c - a sorted table searched by binary search, comparing the
 * request's bytes case-insensitively in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"

/* Not const: command_disable marks entries once, before workers start. */
static command_t command_table[] = {
    {"acl", -2, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"append", 3, 1, 1, 1, 0, CMD_WRITE},
    {"asking", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"auth", -2, 0, 0, 0, 0, CMD_PROXY | CMD_NOAUTH},
    {"bgrewriteaof", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"bgsave", -1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"bitcount", -2, 1, 1, 1, 0, 0},
    {"bitfield", -2, 1, 1, 1, 0, CMD_WRITE},
    {"bitfield_ro", -2, 1, 1, 1, 0, 0},
    {"bitop", -4, 2, -1, 1, 0, CMD_WRITE},
    {"bitpos", -3, 1, 1, 1, 0, 0},
    {"blmove", 6, 1, 2, 1, 0, CMD_WRITE | CMD_BLOCK},
    {"blmpop", -5, 0, 0, 0, 2, CMD_WRITE | CMD_BLOCK},
    {"blpop", -3, 1, -2, 1, 0, CMD_WRITE | CMD_BLOCK},
    {"brpop", -3, 1, -2, 1, 0, CMD_WRITE | CMD_BLOCK},
    {"brpoplpush", 4, 1, 2, 1, 0, CMD_WRITE | CMD_BLOCK},
    {"bzmpop", -5, 0, 0, 0, 2, CMD_WRITE | CMD_BLOCK},
    {"bzpopmax", -3, 1, -2, 1, 0, CMD_WRITE | CMD_BLOCK},
    {"bzpopmin", -3, 1, -2, 1, 0, CMD_WRITE | CMD_BLOCK},
    {"client", -2, 0, 0, 0, 0, CMD_PROXY},
    {"cluster", -2, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"command", -1, 0, 0, 0, 0, CMD_PROXY},
    {"config", -2, 0, 0, 0, 0, CMD_PROXY},
    {"copy", -3, 1, 2, 1, 0, CMD_WRITE},
    {"dbsize", 1, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"debug", -2, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"decr", 2, 1, 1, 1, 0, CMD_WRITE},
    {"decrby", 3, 1, 1, 1, 0, CMD_WRITE},
    {"del", -2, 1, -1, 1, 0, CMD_WRITE | CMD_MULTI},
    {"discard", 1, 0, 0, 0, 0, CMD_TXN},
    {"dump", 2, 1, 1, 1, 0, 0},
    {"echo", 2, 0, 0, 0, 0, CMD_PROXY},
    {"eval", -3, 0, 0, 0, 2, CMD_WRITE},
    {"eval_ro", -3, 0, 0, 0, 2, 0},
    {"evalsha", -3, 0, 0, 0, 2, CMD_WRITE | CMD_EVALSHA},
    {"evalsha_ro", -3, 0, 0, 0, 2, CMD_EVALSHA},
    {"exec", 1, 0, 0, 0, 0, CMD_TXN},
    {"exists", -2, 1, -1, 1, 0, CMD_MULTI},
    {"expire", -3, 1, 1, 1, 0, CMD_WRITE},
    {"expireat", -3, 1, 1, 1, 0, CMD_WRITE},
    {"expiretime", 2, 1, 1, 1, 0, 0},
    {"failover", -1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"fcall", -3, 0, 0, 0, 2, CMD_WRITE},
    {"fcall_ro", -3, 0, 0, 0, 2, 0},
    {"flushall", -1, 0, 0, 0, 0, CMD_WRITE | CMD_PROXY | CMD_FANOUT},
    {"flushdb", -1, 0, 0, 0, 0, CMD_WRITE | CMD_PROXY | CMD_FANOUT},
    {"function", -2, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"geoadd", -5, 1, 1, 1, 0, CMD_WRITE},
    {"geodist", -4, 1, 1, 1, 0, 0},
    {"geohash", -2, 1, 1, 1, 0, 0},
    {"geopos", -2, 1, 1, 1, 0, 0},
    {"georadius", -6, 1, 1, 1, 0, CMD_WRITE | CMD_STORE},
    {"georadius_ro", -6, 1, 1, 1, 0, 0},
    {"georadiusbymember", -5, 1, 1, 1, 0, CMD_WRITE | CMD_STORE},
    {"georadiusbymember_ro", -5, 1, 1, 1, 0, 0},
    {"geosearch", -7, 1, 1, 1, 0, 0},
    {"geosearchstore", -8, 1, 2, 1, 0, CMD_WRITE},
    {"get", 2, 1, 1, 1, 0, 0},
    {"getbit", 3, 1, 1, 1, 0, 0},
    {"getdel", 2, 1, 1, 1, 0, CMD_WRITE},
    {"getex", -2, 1, 1, 1, 0, CMD_WRITE},
    {"getrange", 4, 1, 1, 1, 0, 0},
    {"getset", 3, 1, 1, 1, 0, CMD_WRITE},
    {"hdel", -3, 1, 1, 1, 0, CMD_WRITE},
    {"hello", -1, 0, 0, 0, 0, CMD_PROXY | CMD_NOAUTH},
    {"hexists", 3, 1, 1, 1, 0, 0},
    {"hget", 3, 1, 1, 1, 0, 0},
    {"hgetall", 2, 1, 1, 1, 0, 0},
    {"hincrby", 4, 1, 1, 1, 0, CMD_WRITE},
    {"hincrbyfloat", 4, 1, 1, 1, 0, CMD_WRITE},
    {"hkeys", 2, 1, 1, 1, 0, 0},
    {"hlen", 2, 1, 1, 1, 0, 0},
    {"hmget", -3, 1, 1, 1, 0, 0},
    {"hmset", -4, 1, 1, 1, 0, CMD_WRITE},
    {"hrandfield", -2, 1, 1, 1, 0, 0},
    {"hscan", -3, 1, 1, 1, 0, 0},
    {"hset", -4, 1, 1, 1, 0, CMD_WRITE},
    {"hsetnx", 4, 1, 1, 1, 0, CMD_WRITE},
    {"hstrlen", 3, 1, 1, 1, 0, 0},
    {"hvals", 2, 1, 1, 1, 0, 0},
    {"incr", 2, 1, 1, 1, 0, CMD_WRITE},
    {"incrby", 3, 1, 1, 1, 0, CMD_WRITE},
    {"incrbyfloat", 3, 1, 1, 1, 0, CMD_WRITE},
    {"info", -1, 0, 0, 0, 0, CMD_PROXY},
    {"keys", 2, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"lastsave", 1, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"latency", -2, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"lcs", -3, 1, 2, 1, 0, 0},
    {"lindex", 3, 1, 1, 1, 0, 0},
    {"linsert", 5, 1, 1, 1, 0, CMD_WRITE},
    {"llen", 2, 1, 1, 1, 0, 0},
    {"lmove", 5, 1, 2, 1, 0, CMD_WRITE},
    {"lmpop", -4, 0, 0, 0, 1, CMD_WRITE},
    {"lolwut", -1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"lpop", -2, 1, 1, 1, 0, CMD_WRITE},
    {"lpos", -3, 1, 1, 1, 0, 0},
    {"lpush", -3, 1, 1, 1, 0, CMD_WRITE},
    {"lpushx", -3, 1, 1, 1, 0, CMD_WRITE},
    {"lrange", 4, 1, 1, 1, 0, 0},
    {"lrem", 4, 1, 1, 1, 0, CMD_WRITE},
    {"lset", 4, 1, 1, 1, 0, CMD_WRITE},
    {"ltrim", 4, 1, 1, 1, 0, CMD_WRITE},
    {"memory", -2, 0, 0, 0, 0, CMD_SUBKEY},
    {"mget", -2, 1, -1, 1, 0, CMD_MULTI},
    {"migrate", -6, 3, 3, 1, 0, CMD_WRITE | CMD_UNSUPPORTED},
    {"module", -2, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"monitor", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"move", 3, 1, 1, 1, 0, CMD_WRITE | CMD_UNSUPPORTED},
    {"mset", -3, 1, -1, 2, 0, CMD_WRITE | CMD_MULTI},
    {"msetnx", -3, 1, -1, 2, 0, CMD_WRITE},
    {"multi", 1, 0, 0, 0, 0, CMD_TXN},
    {"object", -2, 0, 0, 0, 0, CMD_SUBKEY},
    {"persist", 2, 1, 1, 1, 0, CMD_WRITE},
    {"pexpire", -3, 1, 1, 1, 0, CMD_WRITE},
    {"pexpireat", -3, 1, 1, 1, 0, CMD_WRITE},
    {"pexpiretime", 2, 1, 1, 1, 0, 0},
    {"pfadd", -2, 1, 1, 1, 0, CMD_WRITE},
    {"pfcount", -2, 1, -1, 1, 0, 0},
    {"pfdebug", 3, 2, 2, 1, 0, CMD_WRITE | CMD_UNSUPPORTED},
    {"pfmerge", -2, 1, -1, 1, 0, CMD_WRITE},
    {"pfselftest", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"ping", -1, 0, 0, 0, 0, CMD_PROXY},
    {"psetex", 4, 1, 1, 1, 0, CMD_WRITE},
    {"psubscribe", -2, 0, 0, 0, 0, CMD_PROXY},
    {"psync", -3, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"pttl", 2, 1, 1, 1, 0, 0},
    {"publish", 3, 1, 1, 1, 0, 0},
    {"pubsub", -2, 0, 0, 0, 0, CMD_PROXY},
    {"punsubscribe", -1, 0, 0, 0, 0, CMD_PROXY},
    {"quit", -1, 0, 0, 0, 0, CMD_PROXY | CMD_NOAUTH},
    {"randomkey", 1, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"readonly", 1, 0, 0, 0, 0, CMD_PROXY},
    {"readwrite", 1, 0, 0, 0, 0, CMD_PROXY},
    {"rename", 3, 1, 2, 1, 0, CMD_WRITE},
    {"renamenx", 3, 1, 2, 1, 0, CMD_WRITE},
    {"replconf", -1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"replicaof", 3, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"reset", 1, 0, 0, 0, 0, CMD_PROXY | CMD_NOAUTH},
    {"restore", -4, 1, 1, 1, 0, CMD_WRITE},
    {"restore-asking", -4, 1, 1, 1, 0, CMD_WRITE | CMD_UNSUPPORTED},
    {"ring", -2, 0, 0, 0, 0, CMD_PROXY},
    {"role", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"rpop", -2, 1, 1, 1, 0, CMD_WRITE},
    {"rpoplpush", 3, 1, 2, 1, 0, CMD_WRITE},
    {"rpush", -3, 1, 1, 1, 0, CMD_WRITE},
    {"rpushx", -3, 1, 1, 1, 0, CMD_WRITE},
    {"sadd", -3, 1, 1, 1, 0, CMD_WRITE},
    {"save", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"scan", -2, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"scard", 2, 1, 1, 1, 0, 0},
    {"script", -2, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"sdiff", -2, 1, -1, 1, 0, 0},
    {"sdiffstore", -3, 1, -1, 1, 0, CMD_WRITE},
    {"select", 2, 0, 0, 0, 0, CMD_PROXY},
    {"set", -3, 1, 1, 1, 0, CMD_WRITE},
    {"setbit", 4, 1, 1, 1, 0, CMD_WRITE},
    {"setex", 4, 1, 1, 1, 0, CMD_WRITE},
    {"setnx", 3, 1, 1, 1, 0, CMD_WRITE},
    {"setrange", 4, 1, 1, 1, 0, CMD_WRITE},
    {"shutdown", -1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"sinter", -2, 1, -1, 1, 0, 0},
    {"sintercard", -3, 0, 0, 0, 1, 0},
    {"sinterstore", -3, 1, -1, 1, 0, CMD_WRITE},
    {"sismember", 3, 1, 1, 1, 0, 0},
    {"slaveof", 3, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"slowlog", -2, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"smembers", 2, 1, 1, 1, 0, 0},
    {"smismember", -3, 1, 1, 1, 0, 0},
    {"smove", 4, 1, 2, 1, 0, CMD_WRITE},
    {"sort", -2, 1, 1, 1, 0, CMD_WRITE | CMD_SORT},
    {"sort_ro", -2, 1, 1, 1, 0, CMD_SORT},
    {"spop", -2, 1, 1, 1, 0, CMD_WRITE},
    {"spublish", 3, 1, 1, 1, 0, 0},
    {"srandmember", -2, 1, 1, 1, 0, 0},
    {"srem", -3, 1, 1, 1, 0, CMD_WRITE},
    {"sscan", -3, 1, 1, 1, 0, 0},
    {"ssubscribe", -2, 1, -1, 1, 0, CMD_PROXY},
    {"strlen", 2, 1, 1, 1, 0, 0},
    {"subscribe", -2, 0, 0, 0, 0, CMD_PROXY},
    {"substr", 4, 1, 1, 1, 0, 0},
    {"sunion", -2, 1, -1, 1, 0, 0},
    {"sunionstore", -3, 1, -1, 1, 0, CMD_WRITE},
    {"sunsubscribe", -1, 1, -1, 1, 0, CMD_PROXY},
    {"swapdb", 3, 0, 0, 0, 0, CMD_WRITE | CMD_UNSUPPORTED},
    {"sync", 1, 0, 0, 0, 0, CMD_UNSUPPORTED},
    {"time", 1, 0, 0, 0, 0, CMD_PROXY},
    {"touch", -2, 1, -1, 1, 0, CMD_MULTI},
    {"ttl", 2, 1, 1, 1, 0, 0},
    {"type", 2, 1, 1, 1, 0, 0},
    {"unlink", -2, 1, -1, 1, 0, CMD_WRITE | CMD_MULTI},
    {"unsubscribe", -1, 0, 0, 0, 0, CMD_PROXY},
    {"unwatch", 1, 0, 0, 0, 0, CMD_TXN},
    {"wait", 3, 0, 0, 0, 0, CMD_PROXY | CMD_FANOUT},
    {"watch", -2, 1, -1, 1, 0, CMD_TXN},
    {"xack", -4, 1, 1, 1, 0, CMD_WRITE},
    {"xadd", -5, 1, 1, 1, 0, CMD_WRITE},
    {"xautoclaim", -6, 1, 1, 1, 0, CMD_WRITE},
    {"xclaim", -6, 1, 1, 1, 0, CMD_WRITE},
    {"xdel", -3, 1, 1, 1, 0, CMD_WRITE},
    {"xgroup", -2, 0, 0, 0, 0, CMD_WRITE | CMD_SUBKEY},
    {"xinfo", -2, 0, 0, 0, 0, CMD_SUBKEY},
    {"xlen", 2, 1, 1, 1, 0, 0},
    {"xpending", -3, 1, 1, 1, 0, 0},
    {"xrange", -4, 1, 1, 1, 0, 0},
    {"xread", -4, 0, 0, 0, 0, CMD_STREAMS},
    {"xreadgroup", -7, 0, 0, 0, 0, CMD_WRITE | CMD_STREAMS},
    {"xrevrange", -4, 1, 1, 1, 0, 0},
    {"xsetid", -3, 1, 1, 1, 0, CMD_WRITE},
    {"xtrim", -4, 1, 1, 1, 0, CMD_WRITE},
    {"zadd", -4, 1, 1, 1, 0, CMD_WRITE},
    {"zcard", 2, 1, 1, 1, 0, 0},
    {"zcount", 4, 1, 1, 1, 0, 0},
    {"zdiff", -3, 0, 0, 0, 1, 0},
    {"zdiffstore", -4, 1, 1, 1, 2, CMD_WRITE},
    {"zincrby", 4, 1, 1, 1, 0, CMD_WRITE},
    {"zinter", -3, 0, 0, 0, 1, 0},
    {"zintercard", -3, 0, 0, 0, 1, 0},
    {"zinterstore", -4, 1, 1, 1, 2, CMD_WRITE},
    {"zlexcount", 4, 1, 1, 1, 0, 0},
    {"zmpop", -4, 0, 0, 0, 1, CMD_WRITE},
    {"zmscore", -3, 1, 1, 1, 0, 0},
    {"zpopmax", -2, 1, 1, 1, 0, CMD_WRITE},
    {"zpopmin", -2, 1, 1, 1, 0, CMD_WRITE},
    {"zrandmember", -2, 1, 1, 1, 0, 0},
    {"zrange", -4, 1, 1, 1, 0, 0},
    {"zrangebylex", -4, 1, 1, 1, 0, 0},
    {"zrangebyscore", -4, 1, 1, 1, 0, 0},
    {"zrangestore", -5, 1, 2, 1, 0, CMD_WRITE},
    {"zrank", 3, 1, 1, 1, 0, 0},
    {"zrem", -3, 1, 1, 1, 0, CMD_WRITE},
    {"zremrangebylex", 4, 1, 1, 1, 0, CMD_WRITE},
    {"zremrangebyrank", 4, 1, 1, 1, 0, CMD_WRITE},
    {"zremrangebyscore", 4, 1, 1, 1, 0, CMD_WRITE},
    {"zrevrange", -4, 1, 1, 1, 0, 0},
    {"zrevrangebylex", -4, 1, 1, 1, 0, 0},
    {"zrevrangebyscore", -4, 1, 1, 1, 0, 0},
    {"zrevrank", 3, 1, 1, 1, 0, 0},
    {"zscan", -3, 1, 1, 1, 0, 0},
    {"zscore", 3, 1, 1, 1, 0, 0},
    {"zunion", -3, 0, 0, 0, 1, 0},
    {"zunionstore", -4, 1, 1, 1, 2, CMD_WRITE},
};

#define COMMAND_N (sizeof(command_table) / sizeof(command_table[0]))

static int command_cmp(const char *name, size_t len, const char *entry)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)name[i], b = (unsigned char)entry[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b == '\0' || a != b)
            return (int)a - (int)b;
    }
    return entry[len] == '\0' ? 0 : -1;
}

const command_t *command_lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = COMMAND_N;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = command_cmp(name, len, command_table[mid].name);
        if (c == 0)
            return &command_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t command_count(void)
{
    return COMMAND_N;
}

const command_t *command_at(size_t i)
{
    return i < COMMAND_N ? &command_table[i] : NULL;
}

int command_arity_ok(const command_t *c, size_t argc)
{
    if (c->arity >= 0)
        return argc == (size_t)c->arity;
    return argc >= (size_t)-c->arity;
}

static int command_number(const char *s, size_t len, long *out)
{
    long v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int arg_is(const char *base, const resp_arg_t *a, const char *word)
{
    size_t len = strlen(word);
    return a->len == len && strncasecmp(base + a->off, word, len) == 0;
}

/* SORT key [BY pattern] [LIMIT off count] [GET pattern ...] [ASC|DESC]
 * [ALPHA] [STORE dest]: STORE's destination is a key like any other (it
 * must share the source's vnode); a BY or GET pattern reads keys the proxy
 * cannot see, except BY nosort and GET #, which read none. */
static long sort_keys(const char *base, const resp_arg_t *args, size_t argc, size_t *keys,
                      size_t n, size_t cap)
{
    for (size_t i = 2; i < argc; i++) {
        if (arg_is(base, &args[i], "limit")) {
            i += 2;
        } else if (i + 1 < argc && arg_is(base, &args[i], "store")) {
            if (n < cap)
                keys[n++] = ++i;
        } else if (i + 1 < argc && arg_is(base, &args[i], "by")) {
            if (!arg_is(base, &args[++i], "nosort"))
                return COMMAND_KEYS_PATTERN;
        } else if (i + 1 < argc && arg_is(base, &args[i], "get")) {
            if (!arg_is(base, &args[++i], "#"))
                return COMMAND_KEYS_PATTERN;
        }
    }
    return (long)n;
}

/* XREAD [COUNT n] [BLOCK ms] STREAMS key... id... and XREADGROUP GROUP g c
 * ...: the STREAMS keyword is searched from where Redis's key spec starts
 * (after GROUP's two arguments), and the keys are the first half of what
 * follows it. An unbalanced list gets Redis's own error from the pnode. */
static size_t streams_at(const command_t *c, const char *base, const resp_arg_t *args,
                         size_t argc)
{
    for (size_t i = strcmp(c->name, "xreadgroup") == 0 ? 4 : 1; i < argc; i++) {
        if (arg_is(base, &args[i], "streams"))
            return i;
    }
    return 0;
}

int command_blocks(const command_t *c, const char *base, const resp_arg_t *args, size_t argc)
{
    size_t s = streams_at(c, base, args, argc);
    for (size_t i = 1; i < (s ? s : argc); i++) {
        if (arg_is(base, &args[i], "block"))
            return 1;
    }
    return 0;
}

/* OBJECT, XINFO, XGROUP and MEMORY USAGE name their key after the
 * subcommand; HELP and MEMORY's other subcommands name none. */
static int subkey_keyed(const char *base, const resp_arg_t *args, size_t argc)
{
    if (argc < 3 || arg_is(base, &args[1], "help"))
        return 0;
    return !arg_is(base, &args[0], "memory") || arg_is(base, &args[1], "usage");
}

int command_keyless_ok(const command_t *c, const char *base, const resp_arg_t *args, size_t argc)
{
    if (c->numkeys > 0 || (c->flags & CMD_STREAMS))
        return 1;
    if (!(c->flags & CMD_SUBKEY))
        return 0;
    return !arg_is(base, &args[0], "memory") || arg_is(base, &args[1], "usage") ||
           arg_is(base, &args[1], "help");
}

long command_keys(const command_t *c, const char *base, const resp_arg_t *args,
                  size_t argc, size_t *keys, size_t cap)
{
    size_t n = 0;
    if (c->first > 0 && (size_t)c->first < argc) {
        long last = c->last < 0 ? (long)argc + c->last : c->last;
        if (last >= (long)argc)
            last = (long)argc - 1;
        for (long i = c->first; i <= last && n < cap; i += c->step)
            keys[n++] = (size_t)i;
    }
    if (c->numkeys > 0 && (size_t)c->numkeys < argc) {
        long nk;
        const resp_arg_t *a = &args[c->numkeys];
        if (command_number(base + a->off, a->len, &nk) < 0 ||
            (size_t)c->numkeys + 1 + (size_t)nk > argc)
            return -1;
        for (long i = 0; i < nk && n < cap; i++)
            keys[n++] = (size_t)c->numkeys + 1 + (size_t)i;
    }
    if (c->flags & CMD_SORT)
        return sort_keys(base, args, argc, keys, n, cap);
    if ((c->flags & CMD_SUBKEY) && subkey_keyed(base, args, argc) && n < cap)
        keys[n++] = 2;
    if (c->flags & CMD_STREAMS) {
        size_t at = streams_at(c, base, args, argc);
        for (size_t i = 0; at > 0 && i < (argc - at - 1) / 2 && n < cap; i++)
            keys[n++] = at + 1 + i;
    }
    /* GEORADIUS key ... [STORE key] [STOREDIST key]: options start after
     * the fixed arguments, so a member named "store" is not taken. */
    for (size_t i = (size_t)-c->arity; (c->flags & CMD_STORE) && i + 1 < argc; i++) {
        if ((arg_is(base, &args[i], "store") || arg_is(base, &args[i], "storedist")) && n < cap)
            keys[n++] = ++i;
    }
    return (long)n;
}

int command_disable_list(const char *list, int apply, char *err, size_t errlen)
{
    /* Every name checked before any is marked. */
    if (apply && command_disable_list(list, 0, err, errlen) < 0)
        return -1;
    for (const char *p = list; p != NULL && *p != '\0';) {
        size_t len = strcspn(p, " \t");
        command_t *c = len > 0 ? (command_t *)command_lookup(p, len) : NULL;
        if (len > 0 && c == NULL) {
            snprintf(err, errlen, "option disable-commands: no command '%.*s'",
                     len > 64 ? 64 : (int)len, p);
            return -1;
        }
        if (c != NULL && apply)
            c->flags |= CMD_DISABLED | CMD_UNSUPPORTED;
        p += len + (p[len] != '\0');
    }
    return 0;
}
