/*
 * tmpdir.h - temporary directories for the ring tests and benchmarks, and a
 * private copy of the fixture ring (LevelDB writes LOCK and LOG into the
 * directory it opens, so the fixture is never opened in place).
 */
#ifndef TMPDIR_H
#define TMPDIR_H

/* A new empty directory under $TMPDIR (or /tmp); malloc'd path, or NULL. */
char *tmpdir_new(void);
/* Removes path and everything under it; 0 or -1. */
int tmpdir_remove(const char *path);
/* Copies the fixture ring $top_srcdir/tests/fixtures/NAME into a new
 * temporary directory, writable; returns the copy's path (remove it with
 * tmpdir_remove) or NULL with the reason in err (RING_ERRLEN bytes). */
char *tmpdir_fixture_copy(const char *name, char *err);

#endif
