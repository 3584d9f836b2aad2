/*
 * ring-tool.c - the operator's CLI for ringproxy's hash ring: the verbs of
 * node-fash's fash.js on a LevelDB ring image (shared/design/ring-image.md).
 * This file finds the verb, parses its flags and prints help; the verbs
 * live in ring-tool-read.c, ring-tool-write.c and ring-tool-reshard.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto-config.h"
#include "ring-tool.h"

typedef struct {
    const char *name;
    int (*run)(const rt_cmd_t *cmd);
    const char *flags;    /* short flags the verb takes, besides -h */
    const char *required; /* flags it cannot do without */
    size_t min_args, max_args;
    const char *summary;
    const char *help;
} rt_verb_t;

#define ANY_ARGS ((size_t)-1)
#define EXIT_STATUS \
    "Exit status: 0 on success, 1 when the verb fails, 2 on a usage error (also a\n" \
    "malformed or out-of-range vnode LIST, a pnode that is not an address, and\n" \
    "a back-end other than leveldb).\n"
#define OPT_L \
    "  -l, --location DIR   the ring's LevelDB directory\n"
#define OPT_FASH \
    "      --fash           print what fash prints, as JSON (see 'ring-tool --help')\n"
#define WRITE_NOTE \
    "The change is stored as one atomic LevelDB write batch that also bumps the\n" \
    "ring's generation, printed last as \"generation G\"; a running proxy picks\n" \
    "it up on SIGHUP. On any error nothing is written.\n"
#define NEW_NOTE \
    "The ring is written as one atomic LevelDB write batch and compacted, so\n" \
    "its first load is as fast as any other; the output ends with\n" \
    "\"generation 1\". On any error nothing is written.\n"

static const rt_verb_t verbs[] = {
    {"create", rt_create, "lvpaCo", "lvp", 0, 0,
     "create a new ring in an empty directory",
     "Usage: ring-tool create -l DIR -v N -p PNODES [-a ALGORITHM | --fash-compatible]\n\n"
     "Creates a ring of N vnodes in DIR (made if missing). The vnodes are assigned\n"
     "round-robin over the pnodes sorted as byte strings: vnode v goes to\n"
     "sorted_pnodes[v % npnodes]. Refuses a directory that already holds a ring\n"
     "or holds other files.\n\n"
     "Options:\n" OPT_L
     "  -v, --vnodes N       number of vnodes, 1 to 10000000; fixed for the ring's life\n"
     "  -p, --pnodes PNODES  pnode names separated by commas or spaces, each a backend\n"
     "                       address\n"
     "                       tcp://HOST:PORT or tls://HOST:PORT (IPv6 as [ADDR])\n"
     "  -a, --algorithm ALG  key hash: xxh3 (default), sha256 (node-fash's default),\n"
     "                       sha1 or md5. node-fash and electric-moray cannot read\n"
     "                       an xxh3 ring (\"Digest method not supported\")\n"
     "      --fash-compatible  a ring fash can read: sha256, fash's default (-a sha256);\n"
     "                       a fash command line (-b leveldb) without -a means it too\n"
     "  -o, --output         also print the new ring as fash's JSON (as fash create -o)\n\n"
     NEW_NOTE "\n"
     "Example:\n"
     "  ring-tool create -l /var/db/ring -v 1000000 \\\n"
     "      -p 'tcp://10.0.0.1:6379,tcp://10.0.0.2:6379' --fash-compatible\n\n" EXIT_STATUS},
    {"get-node", rt_get_node, "lJX", "l", 1, ANY_ARGS,
     "show the vnode, pnode and data each key maps to",
     "Usage: ring-tool get-node -l DIR [--json] KEY...\n\n"
     "Hashes each KEY (its bytes as given) with the ring's algorithm and prints\n"
     "where it lands, one line per key:\n"
     "  KEY vnode=V pnode=P data=D\n"
     "where D is the vnode's data (\"ro\" for read-only) or null. With --json each\n"
     "line is a JSON object {\"key\":..,\"vnode\":..,\"pnode\":..,\"data\":..}.\n"
     "Put -- before keys that start with '-'.\n\n"
     "Options:\n" OPT_L
     "      --json           print JSON lines\n" OPT_FASH "\n"
     "Example:\n"
     "  ring-tool get-node -l /var/db/ring user:1001 user:1002\n\n" EXIT_STATUS},
    {"get-vnode-pnode-and-data", rt_get_vnode_pnode_and_data, "lvX", "lv", 0, 0,
     "show the pnode and data of the given vnodes",
     "Usage: ring-tool get-vnode-pnode-and-data -l DIR -v LIST\n\n"
     "Prints, for each vnode of LIST in ascending order, one line:\n"
     "  V pnode=P data=D\n"
     "where D is the vnode's data or null.\n\n"
     "Options:\n" OPT_L
     "  -v, --vnodes LIST    vnodes: numbers and ranges separated by commas, spaces\n"
     "                       or both, e.g. '0,106,943', '0 106 943', '800-999, 1200'\n"
     OPT_FASH "\n"
     "Example:\n"
     "  ring-tool get-vnode-pnode-and-data -l /var/db/ring -v '0-3,17'\n\n" EXIT_STATUS},
    {"get-pnodes", rt_get_pnodes, "lX", "l", 0, 0,
     "list the pnodes",
     "Usage: ring-tool get-pnodes -l DIR\n\n"
     "Prints the ring's pnodes, one per line, sorted as byte strings, including\n"
     "pnodes that own no vnodes.\n\n"
     "Options:\n" OPT_L OPT_FASH "\n"
     "Example:\n"
     "  ring-tool get-pnodes -l /var/db/ring\n\n" EXIT_STATUS},
    {"get-vnodes", rt_get_vnodes, "lX", "l", 1, 1,
     "list the vnodes a pnode owns",
     "Usage: ring-tool get-vnodes -l DIR PNODE\n\n"
     "Prints the vnodes PNODE owns, one per line, ascending. Prints nothing for a\n"
     "pnode that owns none; fails for a pnode that is not in the ring.\n\n"
     "Options:\n" OPT_L OPT_FASH "\n"
     "Example:\n"
     "  ring-tool get-vnodes -l /var/db/ring tcp://10.0.0.1:6379\n\n" EXIT_STATUS},
    {"get-data-vnodes", rt_get_data_vnodes, "lVX", "l", 0, 0,
     "list the vnodes that have data",
     "Usage: ring-tool get-data-vnodes -l DIR [-v]\n\n"
     "Prints every vnode that has data (such as \"ro\"), ascending, one line each:\n"
     "  V pnode=P data=D\n"
     "Data that reads null or 1 is a string (fash add-data -d null stores one) and\n"
     "prints quoted, \"null\", so that it cannot pass for no data.\n\n"
     "Options:\n" OPT_L
     "  -v, --verbose        fash's flag; with --fash adds the pnode and data of\n"
     "                       each vnode, as fash does (the lines above always have them)\n"
     OPT_FASH "\n"
     "Example:\n"
     "  ring-tool get-data-vnodes -l /var/db/ring\n\n" EXIT_STATUS},
    {"remap-vnodes", rt_remap_vnodes, "lvpo", "lvp", 0, 0,
     "move vnodes to a pnode (added if new)",
     "Usage: ring-tool remap-vnodes -l DIR -v LIST -p PNODE\n\n"
     "Moves every vnode of LIST to PNODE, keeping its data. A PNODE not yet in the\n"
     "ring is added (it must be an address, tcp://HOST:PORT or tls://HOST:PORT).\n"
     "Refuses, naming them, vnodes out of range and vnodes already on PNODE: the\n"
     "whole list moves or nothing does.\n\n"
     "Options:\n" OPT_L
     "  -v, --vnodes LIST    vnodes, e.g. '0,106,943' or '800-999'\n"
     "  -p, --pnode PNODE    the pnode that takes them\n"
     "  -o, --output         also print the stored ring as fash's JSON\n\n" WRITE_NOTE "\n"
     "Example:\n"
     "  ring-tool remap-vnodes -l /var/db/ring -v 800-999 -p tcp://10.0.0.3:6379\n\n"
     EXIT_STATUS},
    {"add-data", rt_add_data, "lvdoX", "lv", 0, 0,
     "set or clear the data of vnodes (ro marks them read-only)",
     "Usage: ring-tool add-data -l DIR -v LIST [-d DATA]\n\n"
     "Sets the data of every vnode of LIST to DATA. \"ro\" makes the proxy refuse\n"
     "writes to keys on those vnodes (-READONLY) while it serves reads; \"null\",\n"
     "or no -d at all (as in fash), clears the data. Other strings are stored and\n"
     "shown but do nothing. (fash add-data -d null stores the string \"null\";\n"
     "ring-tool add-data -d null clears it.)\n\n"
     "Options:\n" OPT_L
     "  -v, --vnodes LIST    vnodes, e.g. '0,106,943' or '800-999'\n"
     "  -d, --data DATA      ro, null, or another string without control characters\n"
     "  -o, --output         also print the stored ring as fash's JSON\n"
     "      --fash           print {\"V\":\"DATA\"} for each vnode, as fash does\n\n"
     WRITE_NOTE "\n"
     "Example (freeze vnodes before moving them, then thaw them):\n"
     "  ring-tool add-data -l /var/db/ring -v 800-999 -d ro\n"
     "  ring-tool add-data -l /var/db/ring -v 800-999 -d null\n\n" EXIT_STATUS},
    {"remove-pnode", rt_remove_pnode, "lpo", "lp", 0, 0,
     "remove a pnode that owns no vnodes",
     "Usage: ring-tool remove-pnode -l DIR -p PNODE\n\n"
     "Removes PNODE from the ring. Refuses while PNODE still owns vnodes (remap\n"
     "them first) and refuses to remove the ring's last pnode.\n\n"
     "Options:\n" OPT_L
     "  -p, --pnode PNODE    the pnode to remove\n"
     "  -o, --output         also print the stored ring as fash's JSON\n\n" WRITE_NOTE "\n"
     "Example:\n"
     "  ring-tool remove-pnode -l /var/db/ring -p tcp://10.0.0.1:6379\n\n" EXIT_STATUS},
    {"rename-pnode", rt_rename_pnode, "l", "l", 2, 2,
     "rename a pnode (its backend's address changed)",
     "Usage: ring-tool rename-pnode -l DIR OLD NEW\n\n"
     "Renames pnode OLD to NEW: every vnode of OLD, with its data, now belongs to\n"
     "NEW. NEW must be an address (tcp://HOST:PORT or tls://HOST:PORT) not yet in\n"
     "the ring.\n\n"
     "Options:\n" OPT_L "\n" WRITE_NOTE "\n"
     "Example:\n"
     "  ring-tool rename-pnode -l /var/db/ring tcp://10.0.0.1:6379 tcp://10.0.0.9:6379\n\n"
     EXIT_STATUS},
    {"print-hash", rt_print_hash, "lX", "l", 0, 0,
     "summarise the ring for a person (with -b, fash's JSON)",
     "Usage: ring-tool print-hash -l DIR [-b leveldb | --fash]\n\n"
     "Prints the ring's algorithm, vnode count, generation, layout version and\n"
     "interval, each pnode with its vnode count and share of the ring, and the\n"
     "vnodes that have data. Meant to be read; scripts should use the get-* verbs.\n"
     "An xxh3 ring is marked: node-fash and electric-moray cannot read it.\n"
     "With -b leveldb or --fash it prints what fash print-hash prints instead: the\n"
     "ring as fash's serialized JSON, byte for byte as export --fash writes it.\n\n"
     "Options:\n" OPT_L
     "  -b, --backend leveldb  fash's flag (every fash print-hash has it): fash's JSON\n"
     "      --fash           fash's JSON\n\n"
     "Example:\n"
     "  ring-tool print-hash -l /var/db/ring\n\n" EXIT_STATUS},
    {"diff", rt_diff, "lX", "l", 0, 1,
     "show the vnodes whose pnode or data differ between two rings",
     "Usage: ring-tool diff -l DIR_A DIR_B\n\n"
     "Compares two rings. For each vnode whose pnode or data differ it prints\n"
     "  < V pnode=P data=D     (ring A)\n"
     "  > V pnode=P data=D     (ring B)\n"
     "Pnodes present in only one ring print as \"< pnode P\" or \"> pnode P\".\n"
     "Rings of different algorithms or vnode counts print \"< algorithm A\",\n"
     "\"> vnodes N\" and so on instead of vnodes, since their vnodes do not\n"
     "correspond. Generations are not compared.\n\n"
     "fash's form, ring-tool diff -b leveldb DIR_A DIR_B (or --fash), prints what\n"
     "fash diff prints: {\"P\":{\"removed\":[V,..],\"added\":[V,..]}} for each pnode\n"
     "whose vnodes differ, and nothing when none do; it exits 0 unless it fails.\n\n"
     "Options:\n"
     "  -l, --location DIR   ring A's directory (may be given twice, for A and B)\n"
     "      --fash           fash diff's JSON\n\n"
     "Example:\n"
     "  ring-tool diff -l /var/db/ring /var/db/ring.new\n\n"
     "Exit status: as diff(1): 0 when the rings are the same, 1 when they differ,\n"
     "2 on any error.\n"},
    {"verify", rt_verify, "l", "l", 0, 0,
     "check that a ring image is complete and consistent",
     "Usage: ring-tool verify -l DIR\n\n"
     "Loads and validates the whole image as the proxy does (COMPLETE present,\n"
     "VNODE_COUNT, every vnode owned, /PNODE lists and data keys agreeing with\n"
     "/VNODE, VNODE_DATA, the interval, the algorithm, every value valid JSON)\n"
     "and checks that every pnode is an address the proxy can route to. Changes\n"
     "nothing. Prints one \"ok\" line, or the first inconsistency.\n\n"
     "Options:\n" OPT_L "\n"
     "Example:\n"
     "  ring-tool verify -l /var/db/ring\n\n" EXIT_STATUS},
    {"export", rt_export, "lX", "l", 0, 0,
     "write the ring as node-fash's serialized JSON",
     "Usage: ring-tool export -l DIR\n\n"
     "Writes the ring to stdout in the JSON form of fash's serialize command,\n"
     "{\"vnodes\":N,\"pnodeToVnodeMap\":{..},\"algorithm\":{..},\"version\":\"..\"},\n"
     "followed by a newline. Pnodes without vnodes appear as {}. import reads it\n"
     "back; export -> import -> export gives the same bytes.\n"
     "With --fash it writes the bytes fash serialize (and print-hash) would:\n"
     "pnodes in the order of their lowest vnode, and no pnode without vnodes,\n"
     "which fash cannot keep: its serialize leaves them out, and its\n"
     "deserialize-ring never finishes a ring whose JSON has a {} (it writes\n"
     "neither VNODE_DATA nor COMPLETE). Feed fash --fash output.\n\n"
     "Options:\n" OPT_L
     "      --fash           fash's own bytes, for fash deserialize-ring\n\n"
     "Example:\n"
     "  ring-tool export -l /var/db/ring > ring.json\n\n" EXIT_STATUS},
    {"import", rt_import, "lf", "l", 0, 1,
     "create a ring from node-fash's serialized JSON",
     "Usage: ring-tool import -l DIR (FILE | -f FILE)\n"
     "       ring-tool deserialize-ring -l DIR [-f FILE]   (fash's name; stdin if no -f)\n\n"
     "Creates a new ring in DIR from FILE (- for stdin), the JSON that export and\n"
     "fash's serialize write. Every pnode must be an address (tcp://HOST:PORT or\n"
     "tls://HOST:PORT). Refuses a directory that already holds a ring.\n\n"
     "Options:\n" OPT_L
     "  -f, --file FILE      the JSON to read, as fash deserialize-ring takes it\n\n"
     NEW_NOTE "\n"
     "Example:\n"
     "  ring-tool export -l /var/db/ring | ring-tool import -l /var/db/ring.copy -\n\n"
     EXIT_STATUS},
    {"reshard", rt_reshard, "lvpPNSTRDBFKHG", "l", 0, 0,
     "move vnodes and their keys between live pnodes",
     "Usage: ring-tool reshard -l DIR (--proxies LIST | --no-proxies)\n"
     "           (-v LIST -p PNODE | --split PNODE --to PNODE | --rebalance [-p PNODE])\n"
     "           [--batch N] [--state FILE] [--hash-tags] [--dirname-routing]\n"
     "           [--dry-run | --rollback]\n\n"
     "Moves vnodes, and the keys on them, from the Redis servers that own them to\n"
     "other ones while clients keep using the proxies. Each batch of vnodes:\n"
     "  1. deletes what the target holds of the vnodes (left by an earlier\n"
     "     attempt), then copies their keys to it (SCAN, DUMP, PEXPIRETIME,\n"
     "     RESTORE REPLACE ABSTTL, pipelined; expiries kept to the millisecond)\n"
     "     while they stay writable;\n"
     "  2. marks the vnodes ro in one commit and reloads every proxy, waiting\n"
     "     until each serves the new generation (writes to them get -READONLY);\n"
     "  3. SCANs the source again and reads every key of the vnodes on both\n"
     "     sides: keys whose DUMP or expiry differ are copied again and read\n"
     "     back, keys the source no longer has are deleted from the target, so\n"
     "     that every key's DUMP and expiry on the target equal the source's;\n"
     "  4. remaps the vnodes to the target and clears ro in one commit, and\n"
     "     reloads every proxy and waits again;\n"
     "  5. deletes the moved keys from the source.\n"
     "The write-blocked window of a batch runs from step 2's commit to the end of\n"
     "step 4. A summary at the end gives keys and bytes moved, the time, keys/s and\n"
     "the longest and total blocked window, then one line per batch:\n"
     "  window BATCH START END SECONDS VNODES\n"
     "START and END in Unix seconds (when the ro commit was made; when every proxy\n"
     "served the remap), VNODES the batch's vnodes, comma-separated. Each step also\n"
     "prints a time-stamped line on stdout as it happens (copying, copied N keys at\n"
     "K keys/s, read-only with the vnodes, read-only window closed after X ms),\n"
     "terminal or not; a terminal also gets a status line on stderr.\n\n"
     "Which vnodes move:\n"
     "  -v LIST -p PNODE       the vnodes of LIST go to PNODE (added if new)\n"
     "  --split PNODE --to NEW every other vnode of PNODE (half of them) goes to NEW\n"
     "  --rebalance [-p NEW]   the fewest vnodes so that every pnode owns N/P\n"
     "                         vnodes, give or take one; -p adds an empty pnode first\n"
     "Vnodes that already have data (such as ro) are refused.\n\n"
     "Options:\n" OPT_L
     "  --proxies LIST        every proxy serving the ring, comma-separated, each\n"
     "                        http://HOST:PORT    its admin endpoint: POST /reload,\n"
     "                                            then GET /ring until \"generation\"\n"
     "                                            reaches the committed one\n"
     "                        PIDFILE@HOST:PORT   SIGHUP to the pid in PIDFILE, then\n"
     "                                            RING INFO on the client port HOST:PORT\n"
     "                                            until generation: reaches it\n"
     "                        Each proxy has 10 s to converge, or the reshard stops\n"
     "                        and names it.\n"
     "  --no-proxies          no proxy serves the ring (offline use); --proxies must\n"
     "                        then be absent, '' or none\n"
     "  --batch N             vnodes per batch (default 64)\n"
     "  --state FILE          where progress is recorded (default DIR.reshard, beside\n"
     "                        the ring's directory); written atomically after each step\n"
     "  --hash-tags           hash the inside of {...} as the proxy's hash-tags does\n"
     "  --dirname-routing     hash the part before the last '/' as the proxy's\n"
     "                        dirname-routing does\n"
     "  --dry-run             print the plan and the keys and bytes each source would\n"
     "                        move (estimated with SCAN and MEMORY USAGE); change nothing\n"
     "  --rollback            end the reshard recorded in FILE: the batch in progress\n"
     "                        gets ro cleared and keeps its old pnode (its copies on\n"
     "                        the target are deleted); batches already remapped stay\n"
     "                        moved\n\n"
     "Resuming: the state file holds the plan and each completed step. Rerunning the\n"
     "same command after an error, Ctrl-C or a crash resumes after the last completed\n"
     "step; every error prints the commands that resume or roll back. A finished\n"
     "reshard's file says so; rerunning it does nothing (remove the file, or name\n"
     "another, to start a new one). After --rollback the same command plans afresh\n"
     "from the ring as it is then. A state file belongs to its ring (directory,\n"
     "generation and content checksum): resuming, rolling back or rerunning with a\n"
     "ring recreated, edited outside ring-tool or moved elsewhere is refused, and\n"
     "the error says which.\n\n"
     "Before it changes anything, reshard refuses with an error: a pnode of the plan\n"
     "that does not answer, cannot be scanned or is older than Redis 7.0, a proxy\n"
     "that does not answer, a TLS pnode. Every proxy must use the same hash-tags\n"
     "and dirname-routing settings as the flags given here.\n\n"
     "Example (split a pnode onto a new one behind two proxies):\n"
     "  ring-tool reshard -l /var/db/ring --split tcp://10.0.0.1:6379 \\\n"
     "      --to tcp://10.0.0.3:6379 \\\n"
     "      --proxies 'http://127.0.0.1:6381,/run/ringproxy2.pid@127.0.0.1:7379'\n\n"
     EXIT_STATUS},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

/* fash's verb names that differ from ours. Its names with '_' for '-'
 * (electric-moray's setup runs "fash get_node") are taken as well. */
static const struct {
    const char *alias, *verb;
} aliases[] = {
    {"remap-vnode", "remap-vnodes"},
    {"deserialize-ring", "import"},
};

#define NALIASES (sizeof(aliases) / sizeof(aliases[0]))

/* Long names for every flag; a verb's own set decides which it accepts.
 * The singular and plural forms are both fash's. */
static const struct option long_opts[] = {
    {"location", required_argument, NULL, 'l'},
    {"vnodes", required_argument, NULL, 'v'},
    {"vnode", required_argument, NULL, 'v'},
    {"pnodes", required_argument, NULL, 'p'},
    {"pnode", required_argument, NULL, 'p'},
    {"algorithm", required_argument, NULL, 'a'},
    {"data", required_argument, NULL, 'd'},
    {"backend", required_argument, NULL, 'b'},
    {"file", required_argument, NULL, 'f'},
    {"output", no_argument, NULL, 'o'},
    {"verbose", no_argument, NULL, 'V'},
    {"fash", no_argument, NULL, 'X'},
    {"fash-compatible", no_argument, NULL, 'C'},
    {"json", no_argument, NULL, 'J'},
    {"proxies", required_argument, NULL, 'P'},
    {"no-proxies", no_argument, NULL, 'N'},
    {"split", required_argument, NULL, 'S'},
    {"to", required_argument, NULL, 'T'},
    {"rebalance", no_argument, NULL, 'R'},
    {"dry-run", no_argument, NULL, 'D'},
    {"batch", required_argument, NULL, 'B'},
    {"state", required_argument, NULL, 'F'},
    {"rollback", no_argument, NULL, 'K'},
    {"hash-tags", no_argument, NULL, 'H'},
    {"dirname-routing", no_argument, NULL, 'G'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int rt_fail(const rt_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "ring-tool: %s: ", cmd->verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return cmd->fail_status;
}

int rt_finish(const rt_cmd_t *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return rt_fail(cmd, "writing to stdout: %s", strerror(errno));
    return 0;
}

int rt_check_addr(const rt_cmd_t *cmd, const char *name)
{
    char err[RING_ERRLEN];
    ring_addr_t addr;

    if (ring_pnode_addr(name, &addr, err) < 0)
        return rt_fail(cmd, "%s", err);
    return 0;
}

void rt_format_vnodes(const uint32_t *v, size_t n, char *buf, size_t len)
{
    size_t i = 0, used = 0;

    buf[0] = '\0';
    while (i < n) {
        size_t j = i, w;
        char item[32];
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        if (j == i)
            snprintf(item, sizeof(item), "%s%u", i ? "," : "", v[i]);
        else
            snprintf(item, sizeof(item), "%s%u-%u", i ? "," : "", v[i], v[j]);
        w = strlen(item);
        /* Keep room for the summary of what does not fit. */
        if (used + w + 32 >= len) {
            snprintf(buf + used, len - used, " and %zu more", n - i);
            return;
        }
        memcpy(buf + used, item, w + 1);
        used += w;
        i = j + 1;
    }
}

static void usage_all(FILE *out)
{
    size_t i;

    fprintf(out,
            "Usage: ring-tool VERB -l DIR [OPTIONS] [ARGS]\n\n"
            "ring-tool reads and edits ringproxy's hash ring, a LevelDB directory in\n"
            "node-fash's layout. Verbs:\n\n");
    for (i = 0; i < NVERBS; i++)
        fprintf(out, "  %-26s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out,
            "\nVnode LISTs are numbers and ranges separated by commas, spaces or both:\n"
            "'0,106,943', '0 106 943', '800-999'. Pnodes are backend addresses:\n"
            "tcp://HOST:PORT, tls://HOST:PORT.\n\n"
            "fash's command lines work as typed: every verb takes -b leveldb (--backend;\n"
            "any other back-end is refused), remap-vnode and deserialize-ring are fash's\n"
            "names for remap-vnodes and import -f, names with '_' (get_node) are taken,\n"
            "and print-hash -b prints fash's JSON. --fash makes the get-* verbs and\n"
            "add-data print the values fash prints; fash prints them with node's\n"
            "util.inspect, which is no stable format (it changes with node's version and\n"
            "cuts arrays after 100 items), so --fash prints them as JSON on one line.\n"
            "A ring made by create is xxh3 unless -a or --fash-compatible says otherwise,\n"
            "and fash cannot read an xxh3 ring.\n"
            "Read-only verbs open the ring only while they load it; a ring another\n"
            "process holds open fails at once with \"locked\".\n\n"
            "Run 'ring-tool VERB --help' for a verb's flags and an example.\n");
}

/* Finds a verb by our name or fash's, with '_' read as '-'. */
static const rt_verb_t *verb_find(const char *name)
{
    char norm[64];
    size_t i;

    if (strlen(name) >= sizeof(norm))
        return NULL;
    for (i = 0; name[i] != '\0'; i++)
        norm[i] = name[i] == '_' ? '-' : name[i];
    norm[i] = '\0';
    for (i = 0; i < NALIASES; i++) {
        if (strcmp(aliases[i].alias, norm) == 0)
            return verb_find(aliases[i].verb);
    }
    for (i = 0; i < NVERBS; i++) {
        if (strcmp(verbs[i].name, norm) == 0)
            return &verbs[i];
    }
    return NULL;
}

static const char *flag_name(int c)
{
    switch (c) {
    case 'l': return "-l";
    case 'v': return "-v";
    case 'p': return "-p";
    case 'a': return "-a";
    case 'd': return "-d";
    case 'b': return "-b";
    case 'f': return "-f";
    case 'o': return "-o";
    case 'V': return "--verbose";
    case 'X': return "--fash";
    case 'C': return "--fash-compatible";
    case 'P': return "--proxies";
    case 'N': return "--no-proxies";
    case 'S': return "--split";
    case 'T': return "--to";
    case 'R': return "--rebalance";
    case 'D': return "--dry-run";
    case 'B': return "--batch";
    case 'F': return "--state";
    case 'K': return "--rollback";
    case 'H': return "--hash-tags";
    case 'G': return "--dirname-routing";
    default: return "--json";
    }
}

/* The slot of a boolean flag. */
static int *bool_flag(rt_cmd_t *cmd, int c)
{
    switch (c) {
    case 'N': return &cmd->no_proxies;
    case 'R': return &cmd->rebalance;
    case 'D': return &cmd->dry_run;
    case 'K': return &cmd->rollback;
    case 'H': return &cmd->hash_tags;
    case 'G': return &cmd->dirname_routing;
    case 'o': return &cmd->output;
    case 'V': return &cmd->verbose;
    case 'X': return &cmd->fash;
    case 'C': return &cmd->fash_compatible;
    default: return &cmd->json;
    }
}

/* What a flag's argument is called in the verb's usage line. */
static const char *flag_arg(const rt_verb_t *vb, int c)
{
    switch (c) {
    case 'l': return "DIR";
    case 'v': return vb->run == rt_create ? "N" : "LIST";
    case 'p': return vb->run == rt_create ? "PNODES" : "PNODE";
    default: return "DATA";
    }
}

static int usage_error(const rt_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const rt_cmd_t *cmd, const char *fmt, ...)
{
    char msg[RING_ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "ring-tool: %s: %s (see 'ring-tool %s --help')\n", cmd->verb, msg, cmd->verb);
    return RT_EXIT_USAGE;
}

/* Stores one flag's value; a flag given twice is a mistake, except diff's
 * second -l, which names ring B. */
static int set_flag(rt_cmd_t *cmd, const rt_verb_t *vb, int c, const char *val)
{
    const char **slot = NULL;

    switch (c) {
    case 'l':
        if (cmd->ndirs == 1 && vb->run == rt_diff) {
            cmd->dirs[cmd->ndirs++] = val;
            return 0;
        }
        if (cmd->ndirs > 0)
            return usage_error(cmd, "-l given more than once");
        cmd->dirs[cmd->ndirs++] = val;
        return 0;
    case 'v': slot = &cmd->vnodes; break;
    case 'p': slot = &cmd->pnodes; break;
    case 'a': slot = &cmd->algo; break;
    case 'd': slot = &cmd->data; break;
    case 'f': slot = &cmd->file; break;
    case 'b':
        /* fash's back-ends are leveldb and memory (a JSON file); ring-tool
         * has LevelDB only. diff may name it twice, as fash's does. */
        if (strcmp(val, "leveldb") != 0)
            return usage_error(cmd, "back-end '%s' is not supported: ring-tool reads and writes LevelDB "
                               "rings only (-b leveldb)", val);
        cmd->backend = 1;
        return 0;
    case 'P': slot = &cmd->proxies; break;
    case 'S': slot = &cmd->split; break;
    case 'T': slot = &cmd->to; break;
    case 'B': slot = &cmd->batch; break;
    case 'F': slot = &cmd->state; break;
    default:
        *bool_flag(cmd, c) = 1;
        return 0;
    }
    if (*slot != NULL)
        return usage_error(cmd, "%s given more than once", flag_name(c));
    *slot = val;
    return 0;
}

static int has_flag(rt_cmd_t *cmd, int c)
{
    switch (c) {
    case 'l': return cmd->ndirs > 0;
    case 'v': return cmd->vnodes != NULL;
    case 'p': return cmd->pnodes != NULL;
    case 'a': return cmd->algo != NULL;
    case 'd': return cmd->data != NULL;
    default: return *bool_flag(cmd, c);
    }
}

/* A pnode named on the command line (-p, rename-pnode's NEW) must be an
 * address; checked before any ring is opened so that a typo is a usage
 * error, not a failure. create's list is split and checked by create,
 * which refuses it as a usage error too. */
static int check_addr(const rt_cmd_t *cmd, const char *name)
{
    char err[RING_ERRLEN];
    ring_addr_t addr;

    if (ring_pnode_addr(name, &addr, err) < 0)
        return usage_error(cmd, "%s", err);
    return 0;
}

/* What can be checked of the values before the ring is read. */
static int check_values(const rt_verb_t *vb, rt_cmd_t *cmd)
{
    char err[RING_ERRLEN];

    if (cmd->vnodes != NULL && vb->run != rt_create &&
        ring_parse_vnode_list(cmd->vnodes, 0, NULL, NULL, err) < 0)
        return usage_error(cmd, "%s", err);
    if (cmd->pnodes != NULL && vb->run != rt_remove_pnode && vb->run != rt_create &&
        check_addr(cmd, cmd->pnodes) != 0)
        return RT_EXIT_USAGE;
    if (vb->run == rt_rename_pnode && check_addr(cmd, cmd->args[1]) != 0)
        return RT_EXIT_USAGE;
    /* fash create defaults to sha256: its command lines make rings it reads. */
    if (vb->run == rt_create && cmd->backend && cmd->algo == NULL)
        cmd->fash_compatible = 1;
    if (cmd->fash_compatible) {
        if (cmd->algo != NULL && strcmp(cmd->algo, "sha256") != 0)
            return usage_error(cmd, "--fash-compatible means -a sha256, not -a %s", cmd->algo);
        cmd->algo = "sha256";
    }
    if (vb->run == rt_import) {
        if (cmd->file != NULL && cmd->nargs > 0)
            return usage_error(cmd, "give FILE or -f FILE, not both");
        if (cmd->file == NULL && cmd->nargs == 0) {
            if (!cmd->fash_stdin)
                return usage_error(cmd, "missing argument: expected 1, got 0");
            cmd->file = "-";
        }
        if (cmd->file == NULL)
            cmd->file = cmd->args[0];
    }
    return 0;
}

/* Parses the verb's flags into cmd. Returns 0 to run the verb, or an exit
 * status: 0 after help was printed (*done set), 2 on a usage error. */
static int parse(const rt_verb_t *vb, int argc, char **argv, rt_cmd_t *cmd, int *done)
{
    const char *r;
    size_t max_args;
    int c, rc, fash_diff;

    /* Every verb's parser knows every flag, so that a flag of another verb
     * gets a better message than "unknown". */
    opterr = 0;
    optind = 1;
    /* fash's get-data-vnodes -v is --verbose, a flag without a value. */
    if (vb->run == rt_get_data_vnodes) {
        for (c = 1; c < argc && strcmp(argv[c], "--") != 0; c++) {
            if (strcmp(argv[c], "-v") == 0)
                argv[c] = (char *)"--verbose";
        }
    }
    while ((c = getopt_long(argc, argv, ":hl:v:p:a:d:b:f:o", long_opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(vb->help, stdout);
            *done = 1;
            return 0;
        }
        if (c == ':')
            return usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
        if (c == '?') {
            if (optopt != 0)
                return usage_error(cmd, "unknown option '-%c'", optopt);
            return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
        if (c != 'b' && strchr(vb->flags, c) == NULL)
            return usage_error(cmd, "option %s does not apply to %s", flag_name(c), vb->name);
        if ((rc = set_flag(cmd, vb, c, optarg)) != 0)
            return rc;
    }
    cmd->args = argv + optind;
    cmd->nargs = (size_t)(argc - optind);
    /* fash diff names its two rings as arguments, with -b. */
    fash_diff = vb->run == rt_diff && cmd->ndirs == 0 && cmd->backend;
    for (r = vb->required; *r != '\0'; r++) {
        if (!has_flag(cmd, *r) && !(fash_diff && *r == 'l'))
            return usage_error(cmd, "missing %s %s", flag_name(*r), flag_arg(vb, *r));
    }
    if (cmd->nargs < vb->min_args) {
        if (vb->run == rt_get_node)
            return usage_error(cmd, "no KEY given");
        return usage_error(cmd, "missing argument: expected %zu, got %zu", vb->min_args, cmd->nargs);
    }
    max_args = fash_diff ? 2 : vb->max_args;
    if (max_args != ANY_ARGS && cmd->nargs > max_args)
        return usage_error(cmd, "unexpected argument '%s'", cmd->args[max_args]);
    return check_values(vb, cmd);
}

int main(int argc, char **argv)
{
    const rt_verb_t *vb;
    rt_cmd_t cmd;
    int rc, done = 0;

    if (argc < 2) {
        fprintf(stderr, "ring-tool: no verb given (see 'ring-tool --help')\n");
        return RT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        if (argc > 2) {
            if ((vb = verb_find(argv[2])) == NULL) {
                fprintf(stderr, "ring-tool: help: unknown verb '%s' (see 'ring-tool --help')\n", argv[2]);
                return RT_EXIT_USAGE;
            }
            fputs(vb->help, stdout);
            return 0;
        }
        usage_all(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ring-tool (%s) %s, ring layout %s\n", PACKAGE_NAME, PACKAGE_VERSION, RING_VERSION);
        return 0;
    }
    vb = verb_find(argv[1]);
    if (vb == NULL) {
        fprintf(stderr, "ring-tool: unknown verb '%s' (see 'ring-tool --help')\n", argv[1]);
        return RT_EXIT_USAGE;
    }
    memset(&cmd, 0, sizeof(cmd));
    cmd.verb = vb->name;
    /* fash deserialize-ring reads stdin when it has no -f. */
    cmd.fash_stdin = strcmp(argv[1], "deserialize-ring") == 0 || strcmp(argv[1], "deserialize_ring") == 0;
    cmd.fail_status = vb->run == rt_diff ? RT_EXIT_USAGE : RT_EXIT_FAIL;
    rc = parse(vb, argc - 1, argv + 1, &cmd, &done);
    if (rc != 0 || done)
        return rc;
    return vb->run(&cmd);
}
