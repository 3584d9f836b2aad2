/*
 * auth.h - the proxy's own passwords (requirepass, admin-token): checked in
 * time that does not depend on the guess.
 */
#ifndef RP_AUTH_H
#define RP_AUTH_H

#include <stddef.h>

/* 1 when want is set (not NULL or empty). */
int auth_enabled(const char *want);
/* 1 when the len bytes of got equal want. Both sides are hashed first so
 * that neither a mismatch's position nor the length leaks. */
int auth_equal(const char *want, const char *got, size_t len);

#endif
