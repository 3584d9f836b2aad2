#include <stdio.h>
#include <string.h>
#include "ring.h"
int main(int argc, char **argv)
{
    char err[RING_ERRLEN];
    ring_t *r;
    if (argc < 2 || ring_load(argv[1], &r, err) < 0) { fprintf(stderr, "%s\n", err); return 1; }
    for (int i = 2; i < argc; i++) { ring_node_t n; ring_lookup(r, argv[i], strlen(argv[i]), &n); printf("%s %u %s\n", argv[i], n.vnode, n.name); }
    ring_free(r);
    return 0;
}
