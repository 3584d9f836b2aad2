/*
 * reshard-state.c - the reshard's record on disk: the plan and how far each
 * batch got, as lines of text. It is rewritten whole after every step, to a
 * temporary file that is synced and renamed over the old one, so a crash
 * leaves either the old record or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "reshard.h"

#define STATE_MAGIC "ring-tool reshard state 1"

char *reshard_state_default(const char *ringdir)
{
    size_t n = strlen(ringdir);
    char *s;

    while (n > 1 && ringdir[n - 1] == '/')
        n--;
    if ((s = malloc(n + sizeof(".reshard"))) == NULL)
        return NULL;
    memcpy(s, ringdir, n);
    memcpy(s + n, ".reshard", sizeof(".reshard"));
    return s;
}

static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = -1;

    if (copy == NULL)
        return -1;
    if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(copy);
    return rc;
}

int reshard_state_write(const char *path, const reshard_plan_t *p, char *err)
{
    size_t tlen = strlen(path) + 8, i;
    char *tmp = malloc(tlen);
    FILE *f = NULL;
    int fd = -1;

    if (tmp == NULL) {
        snprintf(err, RESHARD_ERRLEN, "out of memory");
        return -1;
    }
    snprintf(tmp, tlen, "%s.tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 || (f = fdopen(fd, "w")) == NULL)
        goto fail;
    fprintf(f, "%s\nargs %s\nstatus %s\nvnodes %u\nbatch %u\n", STATE_MAGIC, p->args, p->status, p->nvnodes,
            p->batch);
    if (p->ringdir != NULL)
        fprintf(f, "ring %s\n", p->ringdir);
    fprintf(f, "origin %" PRIu64 " %016" PRIx64 "\nlast %" PRIu64 " %016" PRIx64 "\n", p->origin.gen,
            p->origin.sum, p->last.gen, p->last.sum);
    for (i = 0; i < p->npnodes; i++)
        fprintf(f, "pnode %s\n", p->pnodes[i]);
    for (i = 0; i < p->nmoves; i++)
        fprintf(f, "move %u %u %u\n", p->moves[i].vnode, p->moves[i].from, p->moves[i].to);
    for (i = 0; i < p->nbatches; i++) {
        const reshard_batch_t *b = &p->batches[i];
        fprintf(f, "done %zu %d %" PRId64 " %" PRId64 " %" PRIu64 " %" PRIu64 "\n", i, b->step, b->ro_us,
                b->window_us, b->keys, b->bytes);
    }
    fprintf(f, "end\n");
    if (fflush(f) != 0 || ferror(f) || fsync(fd) < 0)
        goto fail;
    fclose(f);
    f = NULL;
    if (rename(tmp, path) < 0 || sync_dir(path) < 0)
        goto fail;
    free(tmp);
    return 0;
fail:
    snprintf(err, RESHARD_ERRLEN, "cannot write state file %s: %s", path, strerror(errno));
    if (f != NULL)
        fclose(f);
    else if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

static char *chomp(char *s)
{
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '\n')
        s[n - 1] = '\0';
    return s;
}

/* One line of the record into p; -1 if it is not a line of ours. */
static int read_line(char *line, reshard_plan_t *p, size_t *pcap, size_t *mcap, int *ended)
{
    unsigned v, from, to;
    size_t bi;
    int step;
    reshard_batch_t b;

    if (strncmp(line, "args ", 5) == 0)
        return (p->args = strdup(line + 5)) != NULL ? 0 : -1;
    if (strncmp(line, "status ", 7) == 0)
        return (p->status = strdup(line + 7)) != NULL ? 0 : -1;
    if (strncmp(line, "ring ", 5) == 0)
        return (p->ringdir = strdup(line + 5)) != NULL ? 0 : -1;
    if (sscanf(line, "origin %" SCNu64 " %" SCNx64, &p->origin.gen, &p->origin.sum) == 2)
        return 0;
    if (sscanf(line, "last %" SCNu64 " %" SCNx64, &p->last.gen, &p->last.sum) == 2)
        return 0;
    if (sscanf(line, "vnodes %u", &v) == 1) {
        p->nvnodes = v;
        return 0;
    }
    if (sscanf(line, "batch %u", &v) == 1 && v > 0) {
        p->batch = v;
        return 0;
    }
    if (strncmp(line, "pnode ", 6) == 0) {
        if (p->npnodes == *pcap) {
            char **np = realloc(p->pnodes, (*pcap * 2 + 4) * sizeof(*np));
            if (np == NULL)
                return -1;
            p->pnodes = np;
            *pcap = *pcap * 2 + 4;
        }
        return (p->pnodes[p->npnodes++] = strdup(line + 6)) != NULL ? 0 : -1;
    }
    if (sscanf(line, "move %u %u %u", &v, &from, &to) == 3) {
        if (from >= p->npnodes || to >= p->npnodes || v >= p->nvnodes)
            return -1;
        if (p->nmoves == *mcap) {
            reshard_move_t *nm = realloc(p->moves, (*mcap * 2 + 64) * sizeof(*nm));
            if (nm == NULL)
                return -1;
            p->moves = nm;
            *mcap = *mcap * 2 + 64;
        }
        p->moves[p->nmoves].vnode = v;
        p->moves[p->nmoves].from = from;
        p->moves[p->nmoves++].to = to;
        return 0;
    }
    if (sscanf(line, "done %zu %d %" SCNd64 " %" SCNd64 " %" SCNu64 " %" SCNu64, &bi, &step, &b.ro_us,
               &b.window_us, &b.keys, &b.bytes) == 6) {
        if (p->batches == NULL && p->batch > 0) {
            p->nbatches = (p->nmoves + p->batch - 1) / p->batch;
            if ((p->batches = calloc(p->nbatches + 1, sizeof(*p->batches))) == NULL)
                return -1;
        }
        if (p->batches == NULL || bi >= p->nbatches || step < RESHARD_STEP_NONE || step > RESHARD_STEP_CLEANED)
            return -1;
        b.step = step;
        p->batches[bi] = b;
        return 0;
    }
    if (strcmp(line, "end") == 0) {
        *ended = 1;
        return 0;
    }
    return -1;
}

int reshard_state_read(const char *path, reshard_plan_t **out, char *err)
{
    reshard_plan_t *p = NULL;
    char *line = NULL;
    size_t cap = 0, pcap = 0, mcap = 0, lineno = 1;
    int ended = 0, rc = -1;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, RESHARD_ERRLEN, "cannot open state file %s: %s", path, strerror(errno));
        return -1;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL || getline(&line, &cap, f) < 0 ||
        strcmp(chomp(line), STATE_MAGIC) != 0) {
        snprintf(err, RESHARD_ERRLEN, "%s is not a reshard state file", path);
        goto out;
    }
    while (!ended && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (read_line(chomp(line), p, &pcap, &mcap, &ended) < 0) {
            snprintf(err, RESHARD_ERRLEN, "state file %s: bad line %zu", path, lineno);
            goto out;
        }
    }
    if (!ended || p->args == NULL || p->status == NULL || p->batches == NULL) {
        snprintf(err, RESHARD_ERRLEN, "state file %s is incomplete", path);
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    free(line);
    fclose(f);
    reshard_plan_free(p);
    return rc;
}

void reshard_ring_id(const ring_t *r, reshard_ring_id_t *id)
{
    id->gen = ring_generation(r);
    id->sum = ring_content_checksum(r);
}

#define STATE_START_OVER "remove it (or give another --state) to plan a new reshard on this ring"

int reshard_state_check_ring(const reshard_plan_t *p, const char *path, const char *dir, const ring_t *r,
                             char *err)
{
    reshard_ring_id_t now;
    char *abs = realpath(dir, NULL);
    size_t b, i, first, n, moved = 0, away = 0;
    const reshard_move_t *bad = NULL;

    if (abs == NULL) {
        snprintf(err, RESHARD_ERRLEN, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (p->ringdir != NULL && strcmp(p->ringdir, abs) != 0) {
        snprintf(err, RESHARD_ERRLEN, "state file %s belongs to the ring in %s, not to the one in %s", path,
                 p->ringdir, abs);
        free(abs);
        return -1;
    }
    free(abs);
    reshard_ring_id(r, &now);
    /* State files older than this record have no ring identity: only the
     * vnode check below applies to them. */
    if (p->last.gen != 0 && now.gen < p->last.gen) {
        snprintf(err, RESHARD_ERRLEN,
                 "state file %s belongs to an older ring: the reshard was planned at generation %" PRIu64
                 " and last left the ring at generation %" PRIu64 " (checksum %016" PRIx64 "), but the ring in %s "
                 "is at generation %" PRIu64 " (checksum %016" PRIx64 "), so it was recreated or replaced since; "
                 STATE_START_OVER,
                 path, p->origin.gen, p->last.gen, p->last.sum, dir, now.gen, now.sum);
        return -1;
    }
    if (p->last.gen != 0 && now.gen == p->last.gen && now.sum != p->last.sum) {
        snprintf(err, RESHARD_ERRLEN,
                 "state file %s does not match the ring in %s: both are at generation %" PRIu64
                 " but its content differs (checksum %016" PRIx64 ", recorded %016" PRIx64
                 "), so it was changed without ring-tool (e.g. by fash) or replaced; " STATE_START_OVER,
                 path, dir, now.gen, now.sum, p->last.sum);
        return -1;
    }
    for (b = 0; b < p->nbatches; b++) {
        if (p->batches[b].step < RESHARD_STEP_REMAPPED)
            continue;
        reshard_plan_batch(p, b, &first, &n);
        for (i = 0; i < n; i++) {
            const reshard_move_t *m = &p->moves[first + i];
            ring_node_t node;
            ring_vnode_node(r, m->vnode, &node);
            moved++;
            if (strcmp(node.name, p->pnodes[m->to]) != 0) {
                away++;
                bad = bad != NULL ? bad : m;
            }
        }
    }
    if (away > 0) {
        snprintf(err, RESHARD_ERRLEN,
                 "state file %s does not match the ring in %s (generation %" PRIu64 "): %zu of the %zu vnodes the "
                 "reshard moved are not on their target (vnode %u should be on %s), so the ring was recreated or "
                 "changed since; " STATE_START_OVER,
                 path, dir, now.gen, away, moved, bad->vnode, p->pnodes[bad->to]);
        return -1;
    }
    return 0;
}
