/*
 * tmpdir.c - temporary directories and the fixture ring's private copy.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"
#include "tmpdir.h"

char *tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (base == NULL || *base == '\0')
        base = "/tmp";
    if (asprintf(&path, "%s/ringtest.XXXXXX", base) < 0)
        return NULL;
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int tmpdir_remove(const char *path)
{
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int copy_file(const char *from, const char *to, char *err)
{
    char buf[1 << 16];
    int in, out, rc = -1;
    ssize_t n;

    in = open(from, O_RDONLY);
    if (in < 0) {
        snprintf(err, RING_ERRLEN, "cannot read %s: %s", from, strerror(errno));
        return -1;
    }
    out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (out < 0) {
        snprintf(err, RING_ERRLEN, "cannot create %s: %s", to, strerror(errno));
        close(in);
        return -1;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n)
            break;
    }
    if (n == 0)
        rc = 0;
    else
        snprintf(err, RING_ERRLEN, "copying %s: %s", from, strerror(errno));
    close(in);
    if (close(out) < 0)
        rc = -1;
    return rc;
}

/* The fixtures ship in the source tree (tests/fixtures). */
static char *fixture_path(const char *top, const char *name, char *err)
{
    struct stat st;
    char *path;

    if (asprintf(&path, "%s/tests/fixtures/%s", top, name) < 0) {
        snprintf(err, RING_ERRLEN, "out of memory");
        return NULL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return path;
    snprintf(err, RING_ERRLEN, "no fixture %s", path);
    free(path);
    return NULL;
}

char *tmpdir_fixture_copy(const char *name, char *err)
{
    const char *top = getenv("top_srcdir");
    char *src = NULL, *dst = NULL, *from = NULL, *to = NULL;
    struct dirent *e;
    DIR *d = NULL;

    if (top == NULL) {
        snprintf(err, RING_ERRLEN, "top_srcdir is not set (run the test from make check)");
        return NULL;
    }
    if ((src = fixture_path(top, name, err)) == NULL)
        return NULL;
    d = opendir(src);
    if (d == NULL) {
        snprintf(err, RING_ERRLEN, "cannot read fixture %s: %s", src, strerror(errno));
        goto fail;
    }
    dst = tmpdir_new();
    if (dst == NULL) {
        snprintf(err, RING_ERRLEN, "cannot make a temporary directory: %s", strerror(errno));
        goto fail;
    }
    while ((e = readdir(d)) != NULL) {
        /* LOCK belongs to whoever opens the copy. */
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0)
            continue;
        if (asprintf(&from, "%s/%s", src, e->d_name) < 0 || asprintf(&to, "%s/%s", dst, e->d_name) < 0)
            goto fail;
        if (copy_file(from, to, err) < 0)
            goto fail;
        free(from);
        free(to);
        from = to = NULL;
    }
    closedir(d);
    free(src);
    return dst;
fail:
    if (d != NULL)
        closedir(d);
    if (dst != NULL)
        tmpdir_remove(dst);
    free(dst);
    free(src);
    free(from);
    free(to);
    return NULL;
}
