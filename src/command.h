/*
 * command.h - the command table: every Redis 7 command with its arity and
 * key positions (as Redis's COMMAND reports them) and what ringproxy does
 * with it.
 */
#ifndef RP_COMMAND_H
#define RP_COMMAND_H

#include <stddef.h>

#include "resp.h"

#define CMD_WRITE       0x01 /* may change a key: refused on ro vnodes */
#define CMD_MULTI       0x02 /* split by pnode and merged (MGET, MSET, DEL...) */
#define CMD_PROXY       0x04 /* answered by the proxy itself */
#define CMD_UNSUPPORTED 0x08 /* cannot be routed: not supported */
#define CMD_SORT        0x10 /* SORT's options name keys: STORE's destination,
                              * and BY/GET patterns that read other keys */
#define CMD_NOAUTH      0x20 /* allowed before AUTH when requirepass is set */
#define CMD_STREAMS     0x40 /* XREAD/XREADGROUP: keys follow STREAMS */
#define CMD_SUBKEY      0x80 /* a container (OBJECT, XINFO...): the key is
                              * argument 2, after the subcommand */
#define CMD_STORE      0x100 /* GEORADIUS*: STORE/STOREDIST name a key */
#define CMD_FANOUT     0x200 /* sent to every pnode (fanout.c), or one (SCAN) */
#define CMD_DISABLED   0x400 /* refused by disable-commands */
#define CMD_EVALSHA    0x800 /* EVALSHA*: sent as EVAL when the body is kept */
#define CMD_TXN       0x1000 /* MULTI, EXEC, DISCARD, WATCH, UNWATCH: txn.c */
#define CMD_BLOCK     0x2000 /* may block: on a dedicated connection (pinned.c) */

typedef struct command {
    const char *name;  /* lower case */
    int arity;         /* > 0 exact argc, < 0 at least -arity */
    int first;         /* first key's index, 0 = no fixed keys */
    int last;          /* last key's index; < 0 counts from the end */
    int step;
    int numkeys;       /* index of a numkeys argument whose keys follow it */
    unsigned flags;
} command_t;

/* The command named by the bytes (any case), or NULL. Allocates nothing. */
const command_t *command_lookup(const char *name, size_t len);
size_t command_count(void);
/* The i-th entry in name order (i < command_count()), for COMMAND INFO. */
const command_t *command_at(size_t i);
int command_arity_ok(const command_t *c, size_t argc);

/*
 * The indexes of a request's keys, in order, into keys (room for cap).
 * Returns how many there are, -1 when a numkeys argument is not a number
 * in range, or COMMAND_KEYS_PATTERN when keys are named by patterns (SORT
 * BY/GET), which cannot be routed. base holds the request bytes the args
 * slice.
 */
#define COMMAND_KEYS_PATTERN (-2)
long command_keys(const command_t *c, const char *base, const resp_arg_t *args,
                  size_t argc, size_t *keys, size_t cap);
/* 1 when a request with no keys may go to the chosen pnode because its
 * reply does not depend on which: EVAL/FCALL with numkeys 0, HELP, or a
 * syntax error Redis reports itself. */
int command_keyless_ok(const command_t *c, const char *base, const resp_arg_t *args,
                       size_t argc);
/* 1 when XREAD/XREADGROUP (a CMD_STREAMS command) asks to BLOCK. */
int command_blocks(const command_t *c, const char *base, const resp_arg_t *args, size_t argc);
/* The commands named in list (space-separated, any case; NULL = none)
 * checked and, when apply, marked as refused by disable-commands. -1 and
 * err when a name is no command. Apply before workers start. */
int command_disable_list(const char *list, int apply, char *err, size_t errlen);

#endif
