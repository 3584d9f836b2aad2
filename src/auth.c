/*
 * auth.c - constant-time comparison over SHA-256 digests, which have the
 * same length whatever the password's.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"

int auth_enabled(const char *want)
{
    return want != NULL && want[0] != '\0';
}

int auth_equal(const char *want, const char *got, size_t len)
{
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int alen = 0, blen = 0;

    if (!auth_enabled(want))
        return 0;
    if (!EVP_Digest(want, strlen(want), a, &alen, EVP_sha256(), NULL) ||
        !EVP_Digest(got, len, b, &blen, EVP_sha256(), NULL) || alen != blen)
        return 0;
    return CRYPTO_memcmp(a, b, alen) == 0;
}
