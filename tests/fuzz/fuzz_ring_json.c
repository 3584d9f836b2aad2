/*
 * fuzz_ring_json.c - libFuzzer target: node-fash's serialized ring JSON.
 * Any input must be accepted or refused with an error, never crash; an
 * accepted ring must export and re-import to the same bytes.
 *
 * FUZZ_SOURCES: ring/
 */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char err[RING_ERRLEN];
    ring_t *r = NULL, *again = NULL;
    char *out, *out2;
    size_t len, len2;

    if (ring_import_json((const char *)data, size, &r, err) < 0)
        return 0;
    out = ring_export_json(r, 0, &len, err);
    if (out == NULL)
        abort();
    if (ring_import_json(out, len, &again, err) < 0)
        abort(); /* our own export must always import */
    out2 = ring_export_json(again, 0, &len2, err);
    if (out2 == NULL || len != len2 || memcmp(out, out2, len) != 0)
        abort(); /* export -> import -> export must round-trip */
    free(out);
    free(out2);
    ring_free(r);
    ring_free(again);
    return 0;
}
