/*
 * ring-tool-reshard.c - the reshard verb: checks the command, makes or
 * resumes the plan, and drives each batch through the steps of
 * shared/design/resharding.md, recording every completed step. Where a
 * batch stands is read from the ring itself (its vnodes on the source,
 * on the source and ro, or on the target), so a rerun after a crash
 * resumes whichever step was cut short.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reshard.h"

#define RESHARD_BATCH_DEFAULT 64
#define RESHARD_BATCH_MAX 1000000
#define RESHARD_PROXY_TIMEOUT_MS 10000
#define RESHARD_OPEN_TRIES 20
#define RESHARD_OPEN_WAIT_MS 50
#define RESHARD_PROGRESS_US 200000
/* Progress lines during a long copy: one a second at most. */
#define RESHARD_PROGRESS_LINE_US 1000000

/* Where a batch's vnodes are in the ring. */
enum { AT_SOURCE, AT_SOURCE_RO, AT_TARGET };
/* What a commit does to a batch's vnodes. */
enum { COMMIT_RO, COMMIT_REMAP, COMMIT_THAW };

typedef struct {
    const rt_cmd_t *cmd;
    const char *dir;
    char *state_path;
    char *args;
    reshard_plan_t *plan;
    reshard_proxy_t *proxies;
    size_t nproxies;
    reshard_io_t *io;
    ring_t *ring; /* for hashing keys: its algorithm and vnode count */
    int hash_tags, dirname;
    uint32_t batch; /* --batch, for a new plan */
    int recorded; /* the state file holds this reshard */
    size_t cur;   /* the batch in progress */
    int tty;
    int64_t start_us, last_progress_us;
    int64_t copy_start_us; /* the copy in progress began, for keys/s */
    uint64_t copy_start_keys;
} reshard_t;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int64_t reshard_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void reshard_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_flag)
        ;
}

/* --- the command line ---------------------------------------------------- */

static int check_flags(const rt_cmd_t *cmd, uint32_t *batch)
{
    int modes = (cmd->vnodes != NULL) + (cmd->split != NULL) + cmd->rebalance;
    char *end;
    unsigned long b;

    if (cmd->dry_run && cmd->rollback)
        return rt_fail(cmd, "--dry-run and --rollback do not go together");
    if (modes > 1)
        return rt_fail(cmd, "give one of -v LIST -p PNODE, --split PNODE --to PNODE or --rebalance");
    if (cmd->vnodes != NULL && cmd->pnodes == NULL)
        return rt_fail(cmd, "-v needs -p PNODE, the pnode that takes the vnodes");
    if (cmd->split != NULL && cmd->to == NULL)
        return rt_fail(cmd, "--split needs --to PNODE, the pnode that takes half of its vnodes");
    if (cmd->to != NULL && cmd->split == NULL)
        return rt_fail(cmd, "--to goes with --split");
    if (modes == 0 && !cmd->rollback)
        return rt_fail(cmd, "say which vnodes move: -v LIST -p PNODE, --split PNODE --to PNODE or --rebalance");
    if (cmd->pnodes != NULL && cmd->vnodes == NULL && !cmd->rebalance && !cmd->rollback)
        return rt_fail(cmd, "-p goes with -v LIST or --rebalance");
    if (cmd->no_proxies && cmd->proxies != NULL && *cmd->proxies != '\0' && strcmp(cmd->proxies, "none") != 0)
        return rt_fail(cmd, "--no-proxies and --proxies '%s' contradict each other", cmd->proxies);
    if (!cmd->no_proxies && cmd->proxies == NULL)
        return rt_fail(cmd, "missing --proxies LIST (every proxy serving the ring; --no-proxies if there is none)");
    if (!cmd->no_proxies && (*cmd->proxies == '\0' || strcmp(cmd->proxies, "none") == 0))
        return rt_fail(cmd, "--proxies names no proxy; pass --no-proxies to reshard a ring no proxy serves");
    *batch = RESHARD_BATCH_DEFAULT;
    if (cmd->batch != NULL) {
        errno = 0;
        b = strtoul(cmd->batch, &end, 10);
        if (errno != 0 || end == cmd->batch || *end != '\0' || b == 0 || b > RESHARD_BATCH_MAX ||
            cmd->batch[0] == '-')
            return rt_fail(cmd, "--batch '%s' is not a number of vnodes from 1 to %u", cmd->batch,
                           RESHARD_BATCH_MAX);
        *batch = (uint32_t)b;
    }
    return 0;
}

/* s in single quotes for a shell. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static void put_flag(FILE *f, const char *flag, const char *val)
{
    fprintf(f, " %s ", flag);
    put_quoted(f, val);
}

/* The command that resumes this reshard, or with rollback ends it. */
static void print_command(const reshard_t *rs, int rollback)
{
    const rt_cmd_t *cmd = rs->cmd;

    fputs("  ring-tool reshard", stderr);
    put_flag(stderr, "-l", rs->dir);
    if (cmd->no_proxies)
        fputs(" --no-proxies", stderr);
    else
        put_flag(stderr, "--proxies", cmd->proxies);
    if (!rollback) {
        if (cmd->split != NULL) {
            put_flag(stderr, "--split", cmd->split);
            put_flag(stderr, "--to", cmd->to);
        } else if (cmd->rebalance) {
            fputs(" --rebalance", stderr);
            if (cmd->pnodes != NULL)
                put_flag(stderr, "-p", cmd->pnodes);
        } else {
            put_flag(stderr, "-v", cmd->vnodes);
            put_flag(stderr, "-p", cmd->pnodes);
        }
        fprintf(stderr, " --batch %u", rs->plan->batch);
    }
    if (rs->hash_tags)
        fputs(" --hash-tags", stderr);
    if (rs->dirname)
        fputs(" --dirname-routing", stderr);
    put_flag(stderr, "--state", rs->state_path);
    fputs(rollback ? " --rollback\n" : "\n", stderr);
}

/* The one error path once the reshard is recorded: the error, where the
 * reshard stopped, and the exact commands that finish it either way. */
static int fail(reshard_t *rs, const char *err)
{
    size_t first, n;
    int rc = rt_fail(rs->cmd, "%s", err);
    ring_t *r = NULL;
    char why[RING_ERRLEN];

    if (!rs->recorded || rs->cmd->rollback)
        return rc;
    reshard_plan_batch(rs->plan, rs->cur, &first, &n);
    fprintf(stderr, "ring-tool: reshard: stopped in batch %zu of %zu", rs->cur + 1, rs->plan->nbatches);
    if (ring_load(rs->dir, &r, why) == 0) {
        size_t i, ro = 0;
        for (i = 0; i < n; i++)
            ro += ring_vnode_data(r, rs->plan->moves[first + i].vnode) != NULL;
        if (ro > 0)
            fprintf(stderr, "; %zu of its vnodes are read-only until the reshard is resumed or rolled back", ro);
        ring_free(r);
    }
    fprintf(stderr, ".\nProgress is recorded in %s. To resume:\n", rs->state_path);
    print_command(rs, 0);
    fprintf(stderr, "To roll back the batch in progress (earlier batches stay moved):\n");
    print_command(rs, 1);
    return rc;
}

/* --- progress lines ---------------------------------------------------------- */

/* "2026-12-02T15:00:00.123Z batch B/N: ..." on stdout, flushed at once, so
 * a log or a pipe sees each step as it happens (when the vnodes are held
 * read-only above all); the terminal's status line is cleared first. */
static void event(reshard_t *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(reshard_t *rs, const char *fmt, ...)
{
    struct timespec ts;
    struct tm tm;
    char when[32];
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rs->tty)
        fputs("\r\033[K", stderr);
    printf("%s.%03ldZ batch %zu/%zu: ", when, ts.tv_nsec / 1000000, rs->cur + 1, rs->plan->nbatches);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Batch b's vnodes as ranges, as -v takes them; -1 when out of memory. */
static int batch_ranges(const reshard_plan_t *p, size_t b, char *buf, size_t len)
{
    size_t first, n, i;
    uint32_t *vn;

    reshard_plan_batch(p, b, &first, &n);
    if ((vn = malloc((n > 0 ? n : 1) * sizeof(*vn))) == NULL)
        return -1;
    for (i = 0; i < n; i++)
        vn[i] = p->moves[first + i].vnode;
    rt_format_vnodes(vn, n, buf, len);
    free(vn);
    return 0;
}

static double keys_per_s(uint64_t keys, int64_t us)
{
    return us > 0 ? (double)keys * 1e6 / (double)us : 0.0;
}

/* --- the ring -------------------------------------------------------------- */

/* A proxy may hold the ring's directory for a moment while it loads it. */
static int load_ring(const char *dir, ring_t **r, char *err)
{
    char why[RING_ERRLEN];
    int i;

    for (i = 0; i < RESHARD_OPEN_TRIES; i++) {
        if (ring_load(dir, r, why) == 0)
            return 0;
        reshard_sleep_ms(RESHARD_OPEN_WAIT_MS);
    }
    snprintf(err, RESHARD_ERRLEN, "%s", why);
    return -1;
}

/* Where the vnodes of batch b are; a ring that matches none of the three
 * was changed by someone else, and the reshard stops. */
static int batch_where(reshard_t *rs, size_t b, int *where, uint64_t *gen, char *err)
{
    const reshard_plan_t *p = rs->plan;
    size_t first, n, i, src = 0, ro = 0, tgt = 0;
    ring_t *r;

    reshard_plan_batch(p, b, &first, &n);
    if (load_ring(rs->dir, &r, err) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        const reshard_move_t *m = &p->moves[first + i];
        ring_node_t node;
        const char *d = ring_vnode_data(r, m->vnode);
        ring_vnode_node(r, m->vnode, &node);
        if (strcmp(node.name, p->pnodes[m->from]) == 0 && d == NULL)
            src++;
        else if (strcmp(node.name, p->pnodes[m->from]) == 0 && strcmp(d, "ro") == 0)
            ro++;
        else if (strcmp(node.name, p->pnodes[m->to]) == 0 && d == NULL)
            tgt++;
    }
    *gen = ring_generation(r);
    ring_free(r);
    if (src == n || ro == n || tgt == n) {
        *where = src == n ? AT_SOURCE : ro == n ? AT_SOURCE_RO : AT_TARGET;
        return 0;
    }
    snprintf(err, RESHARD_ERRLEN,
             "the ring changed under the reshard: of batch %zu's %zu vnodes, %zu are on their source, %zu on "
             "their source and ro, %zu on their target, and the rest elsewhere",
             b + 1, n, src, ro, tgt);
    return -1;
}

/* One commit of batch b's vnodes: ro, remap (and clear ro), or thaw. */
static int commit_batch(reshard_t *rs, size_t b, int what, uint64_t *gen, char *err)
{
    const reshard_plan_t *p = rs->plan;
    char why[RING_ERRLEN];
    ring_image_t *img = NULL;
    ring_t *old = NULL, *nw = NULL;
    size_t first, n, i;
    int tries, ok = 0;

    reshard_plan_batch(p, b, &first, &n);
    for (tries = 0; ring_image_open(rs->dir, 0, &img, why) < 0; tries++) {
        if (tries == RESHARD_OPEN_TRIES) {
            snprintf(err, RESHARD_ERRLEN, "%s", why);
            return -1;
        }
        reshard_sleep_ms(RESHARD_OPEN_WAIT_MS);
    }
    if (ring_image_read(img, &old, why) < 0 || (nw = ring_clone(old, why)) == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        const reshard_move_t *m = &p->moves[first + i];
        long to;
        if (what == COMMIT_RO) {
            if (ring_set_vnode_data(nw, m->vnode, "ro", why) < 0)
                goto out;
            continue;
        }
        if (ring_set_vnode_data(nw, m->vnode, NULL, why) < 0)
            goto out;
        if (what == COMMIT_THAW)
            continue;
        if ((to = ring_add_pnode(nw, p->pnodes[m->to], why)) < 0)
            goto out;
        ring_set_vnode_pnode(nw, m->vnode, (uint32_t)to);
    }
    if (ring_image_commit(img, old, nw, why) < 0)
        goto out;
    *gen = ring_generation(nw);
    reshard_ring_id(nw, &rs->plan->last);
    ok = 1;
out:
    ring_image_close(img);
    if (!ok)
        snprintf(err, RESHARD_ERRLEN, "%s", why);
    ring_free(old);
    ring_free(nw);
    return ok ? 0 : -1;
}

/* Every proxy reloads and serves generation gen, or the reshard stops. */
static int reload_all(reshard_t *rs, uint64_t gen, char *err)
{
    size_t i;

    for (i = 0; i < rs->nproxies; i++) {
        if (reshard_proxy_reload(&rs->proxies[i], gen, RESHARD_PROXY_TIMEOUT_MS, err) < 0)
            return -1;
    }
    return 0;
}

static int save(reshard_t *rs, char *err)
{
    return reshard_state_write(rs->state_path, rs->plan, err);
}

/* --- progress and the summary ----------------------------------------------- */

static size_t vnodes_done(const reshard_plan_t *p)
{
    size_t b, first, n, done = 0;

    for (b = 0; b < p->nbatches; b++) {
        reshard_plan_batch(p, b, &first, &n);
        if (p->batches[b].step >= RESHARD_STEP_REMAPPED)
            done += n;
    }
    return done;
}

static void progress(void *arg)
{
    reshard_t *rs = arg;
    int64_t now = reshard_mono_us();
    double secs = (double)(now - rs->start_us) / 1e6;
    uint64_t copied = reshard_io_copied(rs->io);
    size_t done = vnodes_done(rs->plan);

    if (!rs->tty) {
        if (now - rs->last_progress_us < RESHARD_PROGRESS_LINE_US)
            return;
        rs->last_progress_us = now;
        event(rs, "copying: %llu keys so far (%.0f keys/s)",
              (unsigned long long)(copied - rs->copy_start_keys),
              keys_per_s(copied - rs->copy_start_keys, now - rs->copy_start_us));
        return;
    }
    if (now - rs->last_progress_us < RESHARD_PROGRESS_US)
        return;
    rs->last_progress_us = now;
    fprintf(stderr, "\rbatch %zu/%zu: vnodes %zu/%zu moved, %llu keys copied, %.0f keys/s", rs->cur + 1,
            rs->plan->nbatches, done, rs->plan->nmoves, (unsigned long long)copied, secs > 0 ? copied / secs : 0.0);
    if (done > 0)
        fprintf(stderr, ", ETA %.0f s   ", secs * (double)(rs->plan->nmoves - done) / (double)done);
    else
        fputs("   ", stderr);
}

/* "window B START END SECONDS VNODES": batch b's write-blocked window in
 * Unix seconds, to line up with client and proxy logs, and every vnode it
 * moved, comma-separated as -v takes them. */
static void print_window(const reshard_plan_t *p, size_t b)
{
    const reshard_batch_t *bt = &p->batches[b];
    int64_t end = bt->ro_us + bt->window_us;
    size_t first, n, i;

    reshard_plan_batch(p, b, &first, &n);
    printf("window %zu %" PRId64 ".%06" PRId64 " %" PRId64 ".%06" PRId64 " %.3f ", b + 1, bt->ro_us / 1000000,
           bt->ro_us % 1000000, end / 1000000, end % 1000000, (double)bt->window_us / 1e6);
    for (i = 0; i < n; i++)
        printf("%s%u", i > 0 ? "," : "", p->moves[first + i].vnode);
    printf("\n");
}

static void summary(const reshard_t *rs)
{
    const reshard_plan_t *p = rs->plan;
    double secs = (double)(reshard_mono_us() - rs->start_us) / 1e6, max = 0, total = 0;
    uint64_t keys = 0, bytes = 0;
    size_t b;

    if (rs->tty)
        fputs("\r\033[K", stderr);
    for (b = 0; b < p->nbatches; b++) {
        double w = (double)p->batches[b].window_us / 1e6;
        keys += p->batches[b].keys;
        bytes += p->batches[b].bytes;
        total += w;
        max = w > max ? w : max;
    }
    printf("moved %zu %s in %zu %s: %llu keys, %llu bytes (DUMP payload)\n", p->nmoves,
           p->nmoves == 1 ? "vnode" : "vnodes", p->nbatches, p->nbatches == 1 ? "batch" : "batches",
           (unsigned long long)keys, (unsigned long long)bytes);
    printf("time %.3f s, %.0f keys/s\n", secs, secs > 0 ? (double)keys / secs : 0.0);
    printf("write-blocked window: max %.3f s, total %.3f s\n", max, total);
    for (b = 0; b < p->nbatches; b++)
        print_window(p, b);
}

/* --- the steps ------------------------------------------------------------- */

static int set_step(reshard_t *rs, size_t b, int step, char *err)
{
    rs->plan->batches[b].step = step;
    return save(rs, err);
}

/* Steps 1-4 of a batch whose vnodes are still on their source. */
/* One copy (reshard_io_copy), timed for its progress line. */
static int copy_keys(reshard_t *rs, int verify, uint64_t *keys, uint64_t *bytes, char *err)
{
    rs->copy_start_us = reshard_mono_us();
    if (!rs->tty)
        rs->last_progress_us = rs->copy_start_us; /* a line a second from here */
    rs->copy_start_keys = reshard_io_copied(rs->io);
    if (reshard_io_copy(rs->io, verify, keys, bytes, err) < 0)
        return -1;
    /* The bulk copy counts what it wrote; the verifying one what it checked. */
    uint64_t n = verify ? *keys : reshard_io_copied(rs->io) - rs->copy_start_keys;
    event(rs, "%s %llu keys (%.0f keys/s)", verify ? "copied again and verified" : "copied while writable",
          (unsigned long long)n, keys_per_s(n, reshard_mono_us() - rs->copy_start_us));
    return 0;
}

static int move_batch(reshard_t *rs, size_t b, int where, uint64_t gen, char *err)
{
    reshard_batch_t *bt = &rs->plan->batches[b];
    uint64_t keys, bytes;
    size_t first, n;
    char ranges[256];

    reshard_plan_batch(rs->plan, b, &first, &n);
    if (batch_ranges(rs->plan, b, ranges, sizeof(ranges)) < 0) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    if (where == AT_SOURCE) {
        if (bt->step < RESHARD_STEP_COPIED) {
            event(rs, "copying %zu vnodes (%s) while writable", n, ranges);
            if (copy_keys(rs, 0, &keys, &bytes, err) < 0 || set_step(rs, b, RESHARD_STEP_COPIED, err) < 0)
                return -1;
        }
        if (commit_batch(rs, b, COMMIT_RO, &gen, err) < 0)
            return -1;
        bt->ro_us = wall_us();
        event(rs, "%zu vnodes read-only (%s), generation %llu: writes to them are refused until the remap", n,
              ranges, (unsigned long long)gen);
    } else {
        if (bt->ro_us == 0)
            bt->ro_us = wall_us();
        event(rs, "%zu vnodes read-only (%s) already, generation %llu: resuming", n, ranges,
              (unsigned long long)gen);
    }
    if (reload_all(rs, gen, err) < 0 || set_step(rs, b, RESHARD_STEP_RO, err) < 0)
        return -1;
    if (copy_keys(rs, 1, &bt->keys, &bt->bytes, err) < 0 || set_step(rs, b, RESHARD_STEP_VERIFIED, err) < 0)
        return -1;
    if (commit_batch(rs, b, COMMIT_REMAP, &gen, err) < 0 || reload_all(rs, gen, err) < 0)
        return -1;
    bt->window_us = wall_us() - bt->ro_us;
    event(rs, "%zu vnodes remapped, generation %llu: read-only window closed after %lld ms", n,
          (unsigned long long)gen, (long long)(bt->window_us / 1000));
    return set_step(rs, b, RESHARD_STEP_REMAPPED, err);
}

static int run_batch(reshard_t *rs, size_t b, char *err)
{
    reshard_batch_t *bt = &rs->plan->batches[b];
    size_t first, n;
    uint64_t gen, deleted;
    int where;

    rs->cur = b;
    reshard_plan_batch(rs->plan, b, &first, &n);
    reshard_io_select(rs->io, rs->plan->moves + first, n);
    if (batch_where(rs, b, &where, &gen, err) < 0)
        return -1;
    if (where != AT_TARGET && move_batch(rs, b, where, gen, err) < 0)
        return -1;
    if (where == AT_TARGET && bt->step < RESHARD_STEP_REMAPPED) {
        /* The remap was committed but not every proxy was seen to load it. */
        if (reload_all(rs, gen, err) < 0)
            return -1;
        if (bt->ro_us != 0)
            bt->window_us = wall_us() - bt->ro_us;
        if (set_step(rs, b, RESHARD_STEP_REMAPPED, err) < 0)
            return -1;
    }
    if (reshard_io_delete(rs->io, 1, &deleted, err) < 0)
        return -1;
    event(rs, "deleted %llu moved keys from the sources; batch done", (unsigned long long)deleted);
    return set_step(rs, b, RESHARD_STEP_CLEANED, err);
}

static int run_all(reshard_t *rs, char *err)
{
    size_t b;

    for (b = 0; b < rs->plan->nbatches; b++) {
        if (rs->plan->batches[b].step < RESHARD_STEP_CLEANED && run_batch(rs, b, err) < 0)
            return -1;
    }
    free(rs->plan->status);
    if ((rs->plan->status = strdup("done")) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    return save(rs, err);
}

/* Ends the recorded reshard: the batch in progress goes back to writable
 * on its source (or, if its remap was already committed, stays moved). */
static int rollback(reshard_t *rs, char *err)
{
    reshard_plan_t *p = rs->plan;
    char ranges[256];
    size_t b, first, n, moved = 0;
    uint64_t gen, deleted;
    int where;

    for (b = 0; b < p->nbatches && p->batches[b].step == RESHARD_STEP_CLEANED; b++)
        moved += p->batch;
    if (b == p->nbatches) {
        snprintf(err, RESHARD_ERRLEN, "every batch of the reshard in %s is done; there is nothing to roll back",
                 rs->state_path);
        return -1;
    }
    rs->cur = b;
    reshard_plan_batch(p, b, &first, &n);
    reshard_io_select(rs->io, p->moves + first, n);
    if (batch_where(rs, b, &where, &gen, err) < 0)
        return -1;
    if (batch_ranges(p, b, ranges, sizeof(ranges)) < 0) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    if (where == AT_TARGET) {
        /* Writes may have reached the target since the remap: moving back
         * would lose them, so this batch is finished instead. */
        if (reload_all(rs, gen, err) < 0 || reshard_io_delete(rs->io, 1, &deleted, err) < 0)
            return -1;
        p->batches[b].step = RESHARD_STEP_CLEANED;
        moved += n;
        printf("batch %zu (vnodes %s) was already remapped; it stays moved and its keys were deleted from the "
               "source\n", b + 1, ranges);
    } else {
        if (where == AT_SOURCE_RO && (commit_batch(rs, b, COMMIT_THAW, &gen, err) < 0 || reload_all(rs, gen, err) < 0))
            return -1;
        if (reshard_io_delete(rs->io, 0, &deleted, err) < 0)
            return -1;
        p->batches[b] = (reshard_batch_t){0};
        printf("rolled back batch %zu of %zu (vnodes %s): writable again on the old pnodes, %llu copied keys "
               "deleted from the targets\n", b + 1, p->nbatches, ranges, (unsigned long long)deleted);
    }
    free(p->status);
    if ((p->status = strdup("rolled-back")) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    if (save(rs, err) < 0)
        return -1;
    printf("%zu earlier %s stay moved; later batches were not started\n", moved, moved == 1 ? "vnode" : "vnodes");
    return 0;
}

/* --- the verb -------------------------------------------------------------- */

/* The plan: the recorded one for a rerun of the same reshard, else a new
 * one. Returns 1 when the recorded reshard is already finished. */
static int get_plan(reshard_t *rs, char *err)
{
    reshard_plan_t *rec = NULL;
    int rc = reshard_state_read(rs->state_path, &rec, err);

    if (rc < 0)
        return -1;
    if (rc == 0 && rec->nvnodes != ring_vnode_count(rs->ring)) {
        snprintf(err, RESHARD_ERRLEN, "state file %s is for a ring of %u vnodes, not this one", rs->state_path,
                 rec->nvnodes);
        reshard_plan_free(rec);
        return -1;
    }
    if (rs->cmd->rollback) {
        if (rc == 1 || strcmp(rec->status, "running") != 0) {
            snprintf(err, RESHARD_ERRLEN, "no reshard in progress is recorded in %s; there is nothing to roll back",
                     rs->state_path);
            reshard_plan_free(rec);
            return -1;
        }
        if (reshard_state_check_ring(rec, rs->state_path, rs->dir, rs->ring, err) < 0) {
            reshard_plan_free(rec);
            return -1;
        }
        rs->plan = rec;
        rs->hash_tags = strstr(rec->args, " hash-tags") != NULL;
        rs->dirname = strstr(rec->args, " dirname-routing") != NULL;
        return 0;
    }
    /* The same command again: resume it, or say it is done. A rolled-back
     * reshard run again starts over from the ring as it is now. */
    if (rc == 0 && strcmp(rec->args, rs->args) == 0 && strcmp(rec->status, "rolled-back") != 0) {
        if (reshard_state_check_ring(rec, rs->state_path, rs->dir, rs->ring, err) < 0) {
            reshard_plan_free(rec);
            return -1;
        }
        rs->plan = rec;
        return strcmp(rec->status, "running") == 0 ? 0 : 1;
    }
    if (rc == 0 && strcmp(rec->status, "running") == 0) {
        snprintf(err, RESHARD_ERRLEN,
                 "%s records a reshard in progress with other arguments (%s); rerun that one, or end it "
                 "with --rollback",
                 rs->state_path, rec->args);
        reshard_plan_free(rec);
        return -1;
    }
    reshard_plan_free(rec);
    if (reshard_plan_new(rs->cmd, rs->ring, rs->batch, rs->args, &rs->plan, err) < 0)
        return -1;
    /* The state belongs to this ring: where it is and what it holds now. */
    if ((rs->plan->ringdir = realpath(rs->dir, NULL)) == NULL) {
        snprintf(err, RESHARD_ERRLEN, "%s: %s", rs->dir, strerror(errno));
        return -1;
    }
    reshard_ring_id(rs->ring, &rs->plan->origin);
    rs->plan->last = rs->plan->origin;
    return 0;
}

static void cleanup(reshard_t *rs)
{
    reshard_io_free(rs->io);
    reshard_plan_free(rs->plan);
    reshard_proxies_free(rs->proxies, rs->nproxies);
    ring_free(rs->ring);
    free(rs->state_path);
    free(rs->args);
}

/* Checks that everything the reshard talks to answers, before any change. */
static int preflight(reshard_t *rs, char *err)
{
    size_t i;
    uint64_t gen;

    if (reshard_io_check(rs->io, err) < 0)
        return -1;
    for (i = 0; i < rs->nproxies; i++) {
        if (reshard_proxy_generation(&rs->proxies[i], RESHARD_PROXY_TIMEOUT_MS, &gen, err) < 0)
            return -1;
    }
    return 0;
}

static int reshard(reshard_t *rs)
{
    const rt_cmd_t *cmd = rs->cmd;
    char err[RESHARD_ERRLEN], why[RING_ERRLEN];
    struct sigaction sa;
    int rc;

    rs->dir = cmd->dirs[0];
    rs->hash_tags = cmd->hash_tags;
    rs->dirname = cmd->dirname_routing;
    rs->start_us = reshard_mono_us();
    rs->tty = isatty(STDERR_FILENO);
    rs->state_path = cmd->state != NULL ? strdup(cmd->state) : reshard_state_default(rs->dir);
    if (rs->state_path == NULL || (!cmd->rollback && (rs->args = reshard_plan_args(cmd, rs->batch)) == NULL))
        return rt_fail(cmd, "out of memory");
    if (!cmd->no_proxies && reshard_proxies_parse(cmd->proxies, &rs->proxies, &rs->nproxies, err) < 0)
        return rt_fail(cmd, "%s", err);
    if (ring_load(rs->dir, &rs->ring, why) < 0)
        return rt_fail(cmd, "%s", why);
    if ((rc = get_plan(rs, err)) < 0)
        return rt_fail(cmd, "%s", err);
    if (rc == 1 && !cmd->dry_run) {
        printf("the reshard recorded in %s is done; nothing to do (remove it, or give another --state, to start "
               "a new one)\n", rs->state_path);
        return rt_finish(cmd);
    }
    if ((rs->io = reshard_io_new(rs->plan, rs->ring, rs->hash_tags, rs->dirname, &stop_flag, err)) == NULL ||
        preflight(rs, err) < 0)
        return rt_fail(cmd, "%s", err);
    reshard_io_progress(rs->io, progress, rs);
    if (cmd->dry_run) {
        reshard_plan_print(rs->plan);
        reshard_io_select(rs->io, rs->plan->moves, rs->plan->nmoves);
        if (reshard_io_estimate(rs->io, err) < 0)
            return rt_fail(cmd, "%s", err);
        printf("dry run: nothing was changed\n");
        return rt_finish(cmd);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (save(rs, err) < 0)
        return rt_fail(cmd, "%s", err);
    rs->recorded = 1;
    if (cmd->rollback)
        return rollback(rs, err) < 0 ? fail(rs, err) : rt_finish(cmd);
    if (run_all(rs, err) < 0)
        return fail(rs, err);
    summary(rs);
    return rt_finish(cmd);
}

int rt_reshard(const rt_cmd_t *cmd)
{
    reshard_t rs;
    uint32_t batch;
    int rc;

    if ((rc = check_flags(cmd, &batch)) != 0)
        return rc;
    memset(&rs, 0, sizeof(rs));
    rs.cmd = cmd;
    rs.batch = batch;
    rc = reshard(&rs);
    cleanup(&rs);
    return rc;
}
