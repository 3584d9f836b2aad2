/*
 * test_ring_hash.c - key -> vnode for all four algorithms, the clamp edge,
 * and the fast exact division against bignum quotients.
 *
 * Every expected value here was made without ring/'s code by
 * tests/vectors/gen_vectors.py: hashlib (sha256, sha1, md5), python3-xxhash
 * (XXH3 64-bit, seed 0, cross-checked with `xxhsum -H3`) and Python's big
 * integers, vnode = min(H // (MAX // N), N - 1). The tables below are its
 * output pasted as it printed them; rerun it to check them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

typedef struct {
    ring_algo_t algo;
    uint32_t n;
    const char *key;
    size_t len;
    uint32_t vnode;
} hash_vec_t;

#define ALL_BYTES "\000\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037 \041\042\043\044\045\046\047\050\051\052\053\054-./0123456789:\073\074\075\076\077\100ABCDEFGHIJKLMNOPQRSTUVWXYZ\133\134\135\136_\140abcdefghijklmnopqrstuvwxyz\173\174\175\176\177\200\201\202\203\204\205\206\207\210\211\212\213\214\215\216\217\220\221\222\223\224\225\226\227\230\231\232\233\234\235\236\237\240\241\242\243\244\245\246\247\250\251\252\253\254\255\256\257\260\261\262\263\264\265\266\267\270\271\272\273\274\275\276\277\300\301\302\303\304\305\306\307\310\311\312\313\314\315\316\317\320\321\322\323\324\325\326\327\330\331\332\333\334\335\336\337\340\341\342\343\344\345\346\347\350\351\352\353\354\355\356\357\360\361\362\363\364\365\366\367\370\371\372\373\374\375\376\377"

/* Fixed keys (empty, binary with NUL bytes, UTF-8, all 256 byte values) for
 * N = 1, 2, 3, 1024, 10^6, 10^7, then per algorithm the first "key:<i>" on
 * vnode 0 and on vnode N - 1 for N = 2, 3, 1024, 10^6, 10^7. */
static const hash_vec_t hash_vecs[] = {
    {RING_HASH_XXH3, 1, "", 0, 0},
    {RING_HASH_XXH3, 1, "a", 1, 0},
    {RING_HASH_XXH3, 1, "hello", 5, 0},
    {RING_HASH_XXH3, 1, "user:1000", 9, 0},
    {RING_HASH_XXH3, 1, "0123456789abcdef", 16, 0},
    {RING_HASH_XXH3, 1, "\000", 1, 0},
    {RING_HASH_XXH3, 1, "a\000b\000\377\376", 6, 0},
    {RING_HASH_XXH3, 1, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 0},
    {RING_HASH_XXH3, 1, ALL_BYTES, 256, 0},
    {RING_HASH_XXH3, 2, "", 0, 0},
    {RING_HASH_XXH3, 2, "a", 1, 1},
    {RING_HASH_XXH3, 2, "hello", 5, 1},
    {RING_HASH_XXH3, 2, "user:1000", 9, 1},
    {RING_HASH_XXH3, 2, "0123456789abcdef", 16, 0},
    {RING_HASH_XXH3, 2, "\000", 1, 1},
    {RING_HASH_XXH3, 2, "a\000b\000\377\376", 6, 1},
    {RING_HASH_XXH3, 2, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1},
    {RING_HASH_XXH3, 2, ALL_BYTES, 256, 1},
    {RING_HASH_XXH3, 3, "", 0, 0},
    {RING_HASH_XXH3, 3, "a", 1, 2},
    {RING_HASH_XXH3, 3, "hello", 5, 1},
    {RING_HASH_XXH3, 3, "user:1000", 9, 2},
    {RING_HASH_XXH3, 3, "0123456789abcdef", 16, 1},
    {RING_HASH_XXH3, 3, "\000", 1, 2},
    {RING_HASH_XXH3, 3, "a\000b\000\377\376", 6, 1},
    {RING_HASH_XXH3, 3, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1},
    {RING_HASH_XXH3, 3, ALL_BYTES, 256, 1},
    {RING_HASH_XXH3, 1024, "", 0, 180},
    {RING_HASH_XXH3, 1024, "a", 1, 923},
    {RING_HASH_XXH3, 1024, "hello", 5, 597},
    {RING_HASH_XXH3, 1024, "user:1000", 9, 1005},
    {RING_HASH_XXH3, 1024, "0123456789abcdef", 16, 401},
    {RING_HASH_XXH3, 1024, "\000", 1, 785},
    {RING_HASH_XXH3, 1024, "a\000b\000\377\376", 6, 527},
    {RING_HASH_XXH3, 1024, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 542},
    {RING_HASH_XXH3, 1024, ALL_BYTES, 256, 592},
    {RING_HASH_XXH3, 1000000, "", 0, 175880},
    {RING_HASH_XXH3, 1000000, "a", 1, 901461},
    {RING_HASH_XXH3, 1000000, "hello", 5, 583342},
    {RING_HASH_XXH3, 1000000, "user:1000", 9, 982059},
    {RING_HASH_XXH3, 1000000, "0123456789abcdef", 16, 391656},
    {RING_HASH_XXH3, 1000000, "\000", 1, 766782},
    {RING_HASH_XXH3, 1000000, "a\000b\000\377\376", 6, 515585},
    {RING_HASH_XXH3, 1000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 530135},
    {RING_HASH_XXH3, 1000000, ALL_BYTES, 256, 578256},
    {RING_HASH_XXH3, 10000000, "", 0, 1758804},
    {RING_HASH_XXH3, 10000000, "a", 1, 9014617},
    {RING_HASH_XXH3, 10000000, "hello", 5, 5833420},
    {RING_HASH_XXH3, 10000000, "user:1000", 9, 9820595},
    {RING_HASH_XXH3, 10000000, "0123456789abcdef", 16, 3916564},
    {RING_HASH_XXH3, 10000000, "\000", 1, 7667827},
    {RING_HASH_XXH3, 10000000, "a\000b\000\377\376", 6, 5155856},
    {RING_HASH_XXH3, 10000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 5301357},
    {RING_HASH_XXH3, 10000000, ALL_BYTES, 256, 5782568},
    {RING_HASH_XXH3, 2, "key:3", 5, 0},
    {RING_HASH_XXH3, 2, "key:0", 5, 1},
    {RING_HASH_XXH3, 3, "key:3", 5, 0},
    {RING_HASH_XXH3, 3, "key:0", 5, 2},
    {RING_HASH_XXH3, 1024, "key:196", 7, 0},
    {RING_HASH_XXH3, 1024, "key:1697", 8, 1023},
    {RING_HASH_XXH3, 1000000, "key:352026", 10, 0},
    {RING_HASH_XXH3, 1000000, "key:400305", 10, 999999},
    {RING_HASH_XXH3, 10000000, "key:3010629", 11, 0},
    {RING_HASH_XXH3, 10000000, "key:14916535", 12, 9999999},
    {RING_HASH_SHA256, 1, "", 0, 0},
    {RING_HASH_SHA256, 1, "a", 1, 0},
    {RING_HASH_SHA256, 1, "hello", 5, 0},
    {RING_HASH_SHA256, 1, "user:1000", 9, 0},
    {RING_HASH_SHA256, 1, "0123456789abcdef", 16, 0},
    {RING_HASH_SHA256, 1, "\000", 1, 0},
    {RING_HASH_SHA256, 1, "a\000b\000\377\376", 6, 0},
    {RING_HASH_SHA256, 1, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 0},
    {RING_HASH_SHA256, 1, ALL_BYTES, 256, 0},
    {RING_HASH_SHA256, 2, "", 0, 1},
    {RING_HASH_SHA256, 2, "a", 1, 1},
    {RING_HASH_SHA256, 2, "hello", 5, 0},
    {RING_HASH_SHA256, 2, "user:1000", 9, 1},
    {RING_HASH_SHA256, 2, "0123456789abcdef", 16, 1},
    {RING_HASH_SHA256, 2, "\000", 1, 0},
    {RING_HASH_SHA256, 2, "a\000b\000\377\376", 6, 0},
    {RING_HASH_SHA256, 2, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1},
    {RING_HASH_SHA256, 2, ALL_BYTES, 256, 0},
    {RING_HASH_SHA256, 3, "", 0, 2},
    {RING_HASH_SHA256, 3, "a", 1, 2},
    {RING_HASH_SHA256, 3, "hello", 5, 0},
    {RING_HASH_SHA256, 3, "user:1000", 9, 1},
    {RING_HASH_SHA256, 3, "0123456789abcdef", 16, 1},
    {RING_HASH_SHA256, 3, "\000", 1, 1},
    {RING_HASH_SHA256, 3, "a\000b\000\377\376", 6, 0},
    {RING_HASH_SHA256, 3, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 2},
    {RING_HASH_SHA256, 3, ALL_BYTES, 256, 0},
    {RING_HASH_SHA256, 1024, "", 0, 910},
    {RING_HASH_SHA256, 1024, "a", 1, 810},
    {RING_HASH_SHA256, 1024, "hello", 5, 179},
    {RING_HASH_SHA256, 1024, "user:1000", 9, 572},
    {RING_HASH_SHA256, 1024, "0123456789abcdef", 16, 638},
    {RING_HASH_SHA256, 1024, "\000", 1, 440},
    {RING_HASH_SHA256, 1024, "a\000b\000\377\376", 6, 34},
    {RING_HASH_SHA256, 1024, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1004},
    {RING_HASH_SHA256, 1024, ALL_BYTES, 256, 258},
    {RING_HASH_SHA256, 1000000, "", 0, 889415},
    {RING_HASH_SHA256, 1000000, "a", 1, 791374},
    {RING_HASH_SHA256, 1000000, "hello", 5, 175572},
    {RING_HASH_SHA256, 1000000, "user:1000", 9, 558662},
    {RING_HASH_SHA256, 1000000, "0123456789abcdef", 16, 623524},
    {RING_HASH_SHA256, 1000000, "\000", 1, 430481},
    {RING_HASH_SHA256, 1000000, "a\000b\000\377\376", 6, 33449},
    {RING_HASH_SHA256, 1000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 980671},
    {RING_HASH_SHA256, 1000000, ALL_BYTES, 256, 252684},
    {RING_HASH_SHA256, 10000000, "", 0, 8894159},
    {RING_HASH_SHA256, 10000000, "a", 1, 7913742},
    {RING_HASH_SHA256, 10000000, "hello", 5, 1755722},
    {RING_HASH_SHA256, 10000000, "user:1000", 9, 5586620},
    {RING_HASH_SHA256, 10000000, "0123456789abcdef", 16, 6235247},
    {RING_HASH_SHA256, 10000000, "\000", 1, 4304816},
    {RING_HASH_SHA256, 10000000, "a\000b\000\377\376", 6, 334490},
    {RING_HASH_SHA256, 10000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 9806711},
    {RING_HASH_SHA256, 10000000, ALL_BYTES, 256, 2526847},
    {RING_HASH_SHA256, 2, "key:0", 5, 0},
    {RING_HASH_SHA256, 2, "key:1", 5, 1},
    {RING_HASH_SHA256, 3, "key:0", 5, 0},
    {RING_HASH_SHA256, 3, "key:1", 5, 2},
    {RING_HASH_SHA256, 1024, "key:381", 7, 0},
    {RING_HASH_SHA256, 1024, "key:670", 7, 1023},
    {RING_HASH_SHA256, 1000000, "key:282236", 10, 0},
    {RING_HASH_SHA256, 1000000, "key:1236547", 11, 999999},
    {RING_HASH_SHA256, 10000000, "key:2311807", 11, 0},
    {RING_HASH_SHA256, 10000000, "key:3967938", 11, 9999999},
    {RING_HASH_SHA1, 1, "", 0, 0},
    {RING_HASH_SHA1, 1, "a", 1, 0},
    {RING_HASH_SHA1, 1, "hello", 5, 0},
    {RING_HASH_SHA1, 1, "user:1000", 9, 0},
    {RING_HASH_SHA1, 1, "0123456789abcdef", 16, 0},
    {RING_HASH_SHA1, 1, "\000", 1, 0},
    {RING_HASH_SHA1, 1, "a\000b\000\377\376", 6, 0},
    {RING_HASH_SHA1, 1, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 0},
    {RING_HASH_SHA1, 1, ALL_BYTES, 256, 0},
    {RING_HASH_SHA1, 2, "", 0, 1},
    {RING_HASH_SHA1, 2, "a", 1, 1},
    {RING_HASH_SHA1, 2, "hello", 5, 1},
    {RING_HASH_SHA1, 2, "user:1000", 9, 0},
    {RING_HASH_SHA1, 2, "0123456789abcdef", 16, 1},
    {RING_HASH_SHA1, 2, "\000", 1, 0},
    {RING_HASH_SHA1, 2, "a\000b\000\377\376", 6, 0},
    {RING_HASH_SHA1, 2, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1},
    {RING_HASH_SHA1, 2, ALL_BYTES, 256, 0},
    {RING_HASH_SHA1, 3, "", 0, 2},
    {RING_HASH_SHA1, 3, "a", 1, 1},
    {RING_HASH_SHA1, 3, "hello", 5, 2},
    {RING_HASH_SHA1, 3, "user:1000", 9, 0},
    {RING_HASH_SHA1, 3, "0123456789abcdef", 16, 2},
    {RING_HASH_SHA1, 3, "\000", 1, 1},
    {RING_HASH_SHA1, 3, "a\000b\000\377\376", 6, 1},
    {RING_HASH_SHA1, 3, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 2},
    {RING_HASH_SHA1, 3, ALL_BYTES, 256, 0},
    {RING_HASH_SHA1, 1024, "", 0, 872},
    {RING_HASH_SHA1, 1024, "a", 1, 539},
    {RING_HASH_SHA1, 1024, "hello", 5, 683},
    {RING_HASH_SHA1, 1024, "user:1000", 9, 214},
    {RING_HASH_SHA1, 1024, "0123456789abcdef", 16, 1017},
    {RING_HASH_SHA1, 1024, "\000", 1, 366},
    {RING_HASH_SHA1, 1024, "a\000b\000\377\376", 6, 491},
    {RING_HASH_SHA1, 1024, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1006},
    {RING_HASH_SHA1, 1024, ALL_BYTES, 256, 292},
    {RING_HASH_SHA1, 1000000, "", 0, 852442},
    {RING_HASH_SHA1, 1000000, "a", 1, 527220},
    {RING_HASH_SHA1, 1000000, "hello", 5, 667797},
    {RING_HASH_SHA1, 1000000, "user:1000", 9, 209485},
    {RING_HASH_SHA1, 1000000, "0123456789abcdef", 16, 993490},
    {RING_HASH_SHA1, 1000000, "\000", 1, 358051},
    {RING_HASH_SHA1, 1000000, "a\000b\000\377\376", 6, 480290},
    {RING_HASH_SHA1, 1000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 983300},
    {RING_HASH_SHA1, 1000000, ALL_BYTES, 256, 285504},
    {RING_HASH_SHA1, 10000000, "", 0, 8524420},
    {RING_HASH_SHA1, 10000000, "a", 1, 5272200},
    {RING_HASH_SHA1, 10000000, "hello", 5, 6677974},
    {RING_HASH_SHA1, 10000000, "user:1000", 9, 2094858},
    {RING_HASH_SHA1, 10000000, "0123456789abcdef", 16, 9934906},
    {RING_HASH_SHA1, 10000000, "\000", 1, 3580510},
    {RING_HASH_SHA1, 10000000, "a\000b\000\377\376", 6, 4802901},
    {RING_HASH_SHA1, 10000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 9833009},
    {RING_HASH_SHA1, 10000000, ALL_BYTES, 256, 2855047},
    {RING_HASH_SHA1, 2, "key:0", 5, 0},
    {RING_HASH_SHA1, 2, "key:1", 5, 1},
    {RING_HASH_SHA1, 3, "key:0", 5, 0},
    {RING_HASH_SHA1, 3, "key:1", 5, 2},
    {RING_HASH_SHA1, 1024, "key:653", 7, 0},
    {RING_HASH_SHA1, 1024, "key:63", 6, 1023},
    {RING_HASH_SHA1, 1000000, "key:732039", 10, 0},
    {RING_HASH_SHA1, 1000000, "key:327572", 10, 999999},
    {RING_HASH_SHA1, 10000000, "key:11376223", 12, 0},
    {RING_HASH_SHA1, 10000000, "key:1982632", 11, 9999999},
    {RING_HASH_MD5, 1, "", 0, 0},
    {RING_HASH_MD5, 1, "a", 1, 0},
    {RING_HASH_MD5, 1, "hello", 5, 0},
    {RING_HASH_MD5, 1, "user:1000", 9, 0},
    {RING_HASH_MD5, 1, "0123456789abcdef", 16, 0},
    {RING_HASH_MD5, 1, "\000", 1, 0},
    {RING_HASH_MD5, 1, "a\000b\000\377\376", 6, 0},
    {RING_HASH_MD5, 1, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 0},
    {RING_HASH_MD5, 1, ALL_BYTES, 256, 0},
    {RING_HASH_MD5, 2, "", 0, 1},
    {RING_HASH_MD5, 2, "a", 1, 0},
    {RING_HASH_MD5, 2, "hello", 5, 0},
    {RING_HASH_MD5, 2, "user:1000", 9, 0},
    {RING_HASH_MD5, 2, "0123456789abcdef", 16, 0},
    {RING_HASH_MD5, 2, "\000", 1, 1},
    {RING_HASH_MD5, 2, "a\000b\000\377\376", 6, 1},
    {RING_HASH_MD5, 2, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1},
    {RING_HASH_MD5, 2, ALL_BYTES, 256, 1},
    {RING_HASH_MD5, 3, "", 0, 2},
    {RING_HASH_MD5, 3, "a", 1, 0},
    {RING_HASH_MD5, 3, "hello", 5, 1},
    {RING_HASH_MD5, 3, "user:1000", 9, 0},
    {RING_HASH_MD5, 3, "0123456789abcdef", 16, 0},
    {RING_HASH_MD5, 3, "\000", 1, 1},
    {RING_HASH_MD5, 3, "a\000b\000\377\376", 6, 2},
    {RING_HASH_MD5, 3, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 1},
    {RING_HASH_MD5, 3, ALL_BYTES, 256, 2},
    {RING_HASH_MD5, 1024, "", 0, 848},
    {RING_HASH_MD5, 1024, "a", 1, 51},
    {RING_HASH_MD5, 1024, "hello", 5, 373},
    {RING_HASH_MD5, 1024, "user:1000", 9, 29},
    {RING_HASH_MD5, 1024, "0123456789abcdef", 16, 256},
    {RING_HASH_MD5, 1024, "\000", 1, 590},
    {RING_HASH_MD5, 1024, "a\000b\000\377\376", 6, 1016},
    {RING_HASH_MD5, 1024, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 539},
    {RING_HASH_MD5, 1024, ALL_BYTES, 256, 907},
    {RING_HASH_MD5, 1000000, "", 0, 828575},
    {RING_HASH_MD5, 1000000, "a", 1, 49826},
    {RING_HASH_MD5, 1000000, "hello", 5, 364276},
    {RING_HASH_MD5, 1000000, "user:1000", 9, 28848},
    {RING_HASH_MD5, 1000000, "0123456789abcdef", 16, 250773},
    {RING_HASH_MD5, 1000000, "\000", 1, 577034},
    {RING_HASH_MD5, 1000000, "a\000b\000\377\376", 6, 993025},
    {RING_HASH_MD5, 1000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 526872},
    {RING_HASH_MD5, 1000000, ALL_BYTES, 256, 885870},
    {RING_HASH_MD5, 10000000, "", 0, 8285759},
    {RING_HASH_MD5, 10000000, "a", 1, 498269},
    {RING_HASH_MD5, 10000000, "hello", 5, 3642768},
    {RING_HASH_MD5, 10000000, "user:1000", 9, 288481},
    {RING_HASH_MD5, 10000000, "0123456789abcdef", 16, 2507734},
    {RING_HASH_MD5, 10000000, "\000", 1, 5770343},
    {RING_HASH_MD5, 10000000, "a\000b\000\377\376", 6, 9930259},
    {RING_HASH_MD5, 10000000, "\320\272\320\273\321\216\321\207/\346\227\245\346\234\254\350\252\236/\303\251", 21, 5268720},
    {RING_HASH_MD5, 10000000, ALL_BYTES, 256, 8858703},
    {RING_HASH_MD5, 2, "key:1", 5, 0},
    {RING_HASH_MD5, 2, "key:0", 5, 1},
    {RING_HASH_MD5, 3, "key:2", 5, 0},
    {RING_HASH_MD5, 3, "key:0", 5, 2},
    {RING_HASH_MD5, 1024, "key:10", 6, 0},
    {RING_HASH_MD5, 1024, "key:297", 7, 1023},
    {RING_HASH_MD5, 1000000, "key:567473", 10, 0},
    {RING_HASH_MD5, 1000000, "key:160133", 10, 999999},
    {RING_HASH_MD5, 10000000, "key:22504817", 12, 0},
    {RING_HASH_MD5, 10000000, "key:3425121", 11, 9999999},
};

typedef struct {
    ring_algo_t algo;
    uint32_t n;
    const char *hex;
} interval_vec_t;

/* floor(MAX / N) in lower-case hex. */
static const interval_vec_t interval_vecs[] = {
    {RING_HASH_XXH3, 1, "ffffffffffffffff"},
    {RING_HASH_XXH3, 2, "7fffffffffffffff"},
    {RING_HASH_XXH3, 3, "5555555555555555"},
    {RING_HASH_XXH3, 7, "2492492492492492"},
    {RING_HASH_XXH3, 1000, "4189374bc6a7ef"},
    {RING_HASH_XXH3, 999983, "10c70a51ddda"},
    {RING_HASH_XXH3, 1000000, "10c6f7a0b5ed"},
    {RING_HASH_XXH3, 10000000, "01ad7f29abca"},
    {RING_HASH_SHA256, 1, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
    {RING_HASH_SHA256, 2, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
    {RING_HASH_SHA256, 3, "5555555555555555555555555555555555555555555555555555555555555555"},
    {RING_HASH_SHA256, 7, "2492492492492492492492492492492492492492492492492492492492492492"},
    {RING_HASH_SHA256, 1000, "4189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a7"},
    {RING_HASH_SHA256, 999983, "10c70a51ddda011cd30531d046f6e356662fa9d4bb4f68c2c5292573e218"},
    {RING_HASH_SHA256, 1000000, "10c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9"},
    {RING_HASH_SHA256, 10000000, "01ad7f29abcaf485787a6520ec08d23699194119a5c37387b71906614310"},
    {RING_HASH_SHA1, 1, "ffffffffffffffffffffffffffffffffffffffff"},
    {RING_HASH_SHA1, 2, "7fffffffffffffffffffffffffffffffffffffff"},
    {RING_HASH_SHA1, 3, "5555555555555555555555555555555555555555"},
    {RING_HASH_SHA1, 7, "2492492492492492492492492492492492492492"},
    {RING_HASH_SHA1, 1000, "4189374bc6a7ef9db22d0e5604189374bc6a7e"},
    {RING_HASH_SHA1, 999983, "10c70a51ddda011cd30531d046f6e356662f"},
    {RING_HASH_SHA1, 1000000, "10c6f7a0b5ed8d36b4c7f34938583621fafc"},
    {RING_HASH_SHA1, 10000000, "01ad7f29abcaf485787a6520ec08d2369919"},
    {RING_HASH_MD5, 1, "ffffffffffffffffffffffffffffffff"},
    {RING_HASH_MD5, 2, "7fffffffffffffffffffffffffffffff"},
    {RING_HASH_MD5, 3, "55555555555555555555555555555555"},
    {RING_HASH_MD5, 7, "24924924924924924924924924924924"},
    {RING_HASH_MD5, 1000, "4189374bc6a7ef9db22d0e56041893"},
    {RING_HASH_MD5, 999983, "10c70a51ddda011cd30531d046f6"},
    {RING_HASH_MD5, 1000000, "10c6f7a0b5ed8d36b4c7f3493858"},
    {RING_HASH_MD5, 10000000, "01ad7f29abcaf485787a6520ec08"},
};

typedef struct {
    ring_algo_t algo;
    uint32_t n;
    const char *h;
    uint32_t vnode;
} edge_vec_t;

/* Crafted digests at the edges: MAX, N * interval, N * interval - 1,
 * interval - 1, interval, 0, (N - 1) * interval and one less. N = 3 divides
 * every MAX (N * interval = MAX); 7 and 999983 divide none. */
static const edge_vec_t edge_vecs[] = {
    {RING_HASH_XXH3, 1, "ffffffffffffffff", 0},
    {RING_HASH_XXH3, 1, "fffffffffffffffe", 0},
    {RING_HASH_XXH3, 1, "0000000000000000", 0},
    {RING_HASH_XXH3, 2, "ffffffffffffffff", 1},
    {RING_HASH_XXH3, 2, "fffffffffffffffe", 1},
    {RING_HASH_XXH3, 2, "fffffffffffffffd", 1},
    {RING_HASH_XXH3, 2, "7ffffffffffffffe", 0},
    {RING_HASH_XXH3, 2, "7fffffffffffffff", 1},
    {RING_HASH_XXH3, 2, "0000000000000000", 0},
    {RING_HASH_XXH3, 3, "ffffffffffffffff", 2},
    {RING_HASH_XXH3, 3, "fffffffffffffffe", 2},
    {RING_HASH_XXH3, 3, "5555555555555554", 0},
    {RING_HASH_XXH3, 3, "5555555555555555", 1},
    {RING_HASH_XXH3, 3, "0000000000000000", 0},
    {RING_HASH_XXH3, 3, "aaaaaaaaaaaaaaaa", 2},
    {RING_HASH_XXH3, 3, "aaaaaaaaaaaaaaa9", 1},
    {RING_HASH_XXH3, 7, "ffffffffffffffff", 6},
    {RING_HASH_XXH3, 7, "fffffffffffffffe", 6},
    {RING_HASH_XXH3, 7, "fffffffffffffffd", 6},
    {RING_HASH_XXH3, 7, "2492492492492491", 0},
    {RING_HASH_XXH3, 7, "2492492492492492", 1},
    {RING_HASH_XXH3, 7, "0000000000000000", 0},
    {RING_HASH_XXH3, 7, "db6db6db6db6db6c", 6},
    {RING_HASH_XXH3, 7, "db6db6db6db6db6b", 5},
    {RING_HASH_XXH3, 1000, "ffffffffffffffff", 999},
    {RING_HASH_XXH3, 1000, "fffffffffffffd98", 999},
    {RING_HASH_XXH3, 1000, "fffffffffffffd97", 999},
    {RING_HASH_XXH3, 1000, "004189374bc6a7ee", 0},
    {RING_HASH_XXH3, 1000, "004189374bc6a7ef", 1},
    {RING_HASH_XXH3, 1000, "0000000000000000", 0},
    {RING_HASH_XXH3, 1000, "ffbe76c8b43955a9", 999},
    {RING_HASH_XXH3, 1000, "ffbe76c8b43955a8", 998},
    {RING_HASH_XXH3, 999983, "ffffffffffffffff", 999982},
    {RING_HASH_XXH3, 999983, "ffffffffffffef06", 999982},
    {RING_HASH_XXH3, 999983, "ffffffffffffef05", 999982},
    {RING_HASH_XXH3, 999983, "000010c70a51ddd9", 0},
    {RING_HASH_XXH3, 999983, "000010c70a51ddda", 1},
    {RING_HASH_XXH3, 999983, "0000000000000000", 0},
    {RING_HASH_XXH3, 999983, "ffffef38f5ae112c", 999982},
    {RING_HASH_XXH3, 999983, "ffffef38f5ae112b", 999981},
    {RING_HASH_XXH3, 1000000, "ffffffffffffffff", 999999},
    {RING_HASH_XXH3, 1000000, "fffffffffff79540", 999999},
    {RING_HASH_XXH3, 1000000, "fffffffffff7953f", 999999},
    {RING_HASH_XXH3, 1000000, "000010c6f7a0b5ec", 0},
    {RING_HASH_XXH3, 1000000, "000010c6f7a0b5ed", 1},
    {RING_HASH_XXH3, 1000000, "0000000000000000", 0},
    {RING_HASH_XXH3, 1000000, "ffffef390856df53", 999999},
    {RING_HASH_XXH3, 1000000, "ffffef390856df52", 999998},
    {RING_HASH_XXH3, 10000000, "ffffffffffffffff", 9999999},
    {RING_HASH_XXH3, 10000000, "ffffffffff6e4100", 9999999},
    {RING_HASH_XXH3, 10000000, "ffffffffff6e40ff", 9999999},
    {RING_HASH_XXH3, 10000000, "000001ad7f29abc9", 0},
    {RING_HASH_XXH3, 10000000, "000001ad7f29abca", 1},
    {RING_HASH_XXH3, 10000000, "0000000000000000", 0},
    {RING_HASH_XXH3, 10000000, "fffffe5280449536", 9999999},
    {RING_HASH_XXH3, 10000000, "fffffe5280449535", 9999998},
    {RING_HASH_SHA256, 1, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0},
    {RING_HASH_SHA256, 1, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 0},
    {RING_HASH_SHA256, 1, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 2, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 1},
    {RING_HASH_SHA256, 2, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 1},
    {RING_HASH_SHA256, 2, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd", 1},
    {RING_HASH_SHA256, 2, "7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 0},
    {RING_HASH_SHA256, 2, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 1},
    {RING_HASH_SHA256, 2, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 3, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 2},
    {RING_HASH_SHA256, 3, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 2},
    {RING_HASH_SHA256, 3, "5555555555555555555555555555555555555555555555555555555555555554", 0},
    {RING_HASH_SHA256, 3, "5555555555555555555555555555555555555555555555555555555555555555", 1},
    {RING_HASH_SHA256, 3, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2},
    {RING_HASH_SHA256, 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa9", 1},
    {RING_HASH_SHA256, 7, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 6},
    {RING_HASH_SHA256, 7, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 6},
    {RING_HASH_SHA256, 7, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd", 6},
    {RING_HASH_SHA256, 7, "2492492492492492492492492492492492492492492492492492492492492491", 0},
    {RING_HASH_SHA256, 7, "2492492492492492492492492492492492492492492492492492492492492492", 1},
    {RING_HASH_SHA256, 7, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 7, "db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6c", 6},
    {RING_HASH_SHA256, 7, "db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6db6b", 5},
    {RING_HASH_SHA256, 1000, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 999},
    {RING_HASH_SHA256, 1000, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc58", 999},
    {RING_HASH_SHA256, 1000, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc57", 999},
    {RING_HASH_SHA256, 1000, "004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a6", 0},
    {RING_HASH_SHA256, 1000, "004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a7", 1},
    {RING_HASH_SHA256, 1000, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 1000, "ffbe76c8b4395810624dd2f1a9fbe76c8b4395810624dd2f1a9fbe76c8b435b1", 999},
    {RING_HASH_SHA256, 1000, "ffbe76c8b4395810624dd2f1a9fbe76c8b4395810624dd2f1a9fbe76c8b435b0", 998},
    {RING_HASH_SHA256, 999983, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 999982},
    {RING_HASH_SHA256, 999983, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8b268", 999982},
    {RING_HASH_SHA256, 999983, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8b267", 999982},
    {RING_HASH_SHA256, 999983, "000010c70a51ddda011cd30531d046f6e356662fa9d4bb4f68c2c5292573e217", 0},
    {RING_HASH_SHA256, 999983, "000010c70a51ddda011cd30531d046f6e356662fa9d4bb4f68c2c5292573e218", 1},
    {RING_HASH_SHA256, 999983, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 999983, "ffffef38f5ae2225fee32cface2fb9091ca999d0562b44b0973d3ad6da84d050", 999982},
    {RING_HASH_SHA256, 999983, "ffffef38f5ae2225fee32cface2fb9091ca999d0562b44b0973d3ad6da84d04f", 999981},
    {RING_HASH_SHA256, 1000000, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 999999},
    {RING_HASH_SHA256, 1000000, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff63c40", 999999},
    {RING_HASH_SHA256, 1000000, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff63c3f", 999999},
    {RING_HASH_SHA256, 1000000, "000010c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea8", 0},
    {RING_HASH_SHA256, 1000000, "000010c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9", 1},
    {RING_HASH_SHA256, 1000000, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 1000000, "ffffef39085f4a1272c94b380cb6c7a7c9de050374ff865d7cb2d905c0299d97", 999999},
    {RING_HASH_SHA256, 1000000, "ffffef39085f4a1272c94b380cb6c7a7c9de050374ff865d7cb2d905c0299d96", 999998},
    {RING_HASH_SHA256, 10000000, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 9999999},
    {RING_HASH_SHA256, 10000000, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff6ce800", 9999999},
    {RING_HASH_SHA256, 10000000, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff6ce7ff", 9999999},
    {RING_HASH_SHA256, 10000000, "000001ad7f29abcaf485787a6520ec08d23699194119a5c37387b7190661430f", 0},
    {RING_HASH_SHA256, 10000000, "000001ad7f29abcaf485787a6520ec08d23699194119a5c37387b71906614310", 1},
    {RING_HASH_SHA256, 10000000, "0000000000000000000000000000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA256, 10000000, "fffffe5280d654350b7a87859adf13f72dc966e6bee65a3c8c7848e6f90ba4f0", 9999999},
    {RING_HASH_SHA256, 10000000, "fffffe5280d654350b7a87859adf13f72dc966e6bee65a3c8c7848e6f90ba4ef", 9999998},
    {RING_HASH_SHA1, 1, "ffffffffffffffffffffffffffffffffffffffff", 0},
    {RING_HASH_SHA1, 1, "fffffffffffffffffffffffffffffffffffffffe", 0},
    {RING_HASH_SHA1, 1, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 2, "ffffffffffffffffffffffffffffffffffffffff", 1},
    {RING_HASH_SHA1, 2, "fffffffffffffffffffffffffffffffffffffffe", 1},
    {RING_HASH_SHA1, 2, "fffffffffffffffffffffffffffffffffffffffd", 1},
    {RING_HASH_SHA1, 2, "7ffffffffffffffffffffffffffffffffffffffe", 0},
    {RING_HASH_SHA1, 2, "7fffffffffffffffffffffffffffffffffffffff", 1},
    {RING_HASH_SHA1, 2, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 3, "ffffffffffffffffffffffffffffffffffffffff", 2},
    {RING_HASH_SHA1, 3, "fffffffffffffffffffffffffffffffffffffffe", 2},
    {RING_HASH_SHA1, 3, "5555555555555555555555555555555555555554", 0},
    {RING_HASH_SHA1, 3, "5555555555555555555555555555555555555555", 1},
    {RING_HASH_SHA1, 3, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2},
    {RING_HASH_SHA1, 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa9", 1},
    {RING_HASH_SHA1, 7, "ffffffffffffffffffffffffffffffffffffffff", 6},
    {RING_HASH_SHA1, 7, "fffffffffffffffffffffffffffffffffffffffe", 6},
    {RING_HASH_SHA1, 7, "fffffffffffffffffffffffffffffffffffffffd", 6},
    {RING_HASH_SHA1, 7, "2492492492492492492492492492492492492491", 0},
    {RING_HASH_SHA1, 7, "2492492492492492492492492492492492492492", 1},
    {RING_HASH_SHA1, 7, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 7, "db6db6db6db6db6db6db6db6db6db6db6db6db6c", 6},
    {RING_HASH_SHA1, 7, "db6db6db6db6db6db6db6db6db6db6db6db6db6b", 5},
    {RING_HASH_SHA1, 1000, "ffffffffffffffffffffffffffffffffffffffff", 999},
    {RING_HASH_SHA1, 1000, "fffffffffffffffffffffffffffffffffffffc30", 999},
    {RING_HASH_SHA1, 1000, "fffffffffffffffffffffffffffffffffffffc2f", 999},
    {RING_HASH_SHA1, 1000, "004189374bc6a7ef9db22d0e5604189374bc6a7d", 0},
    {RING_HASH_SHA1, 1000, "004189374bc6a7ef9db22d0e5604189374bc6a7e", 1},
    {RING_HASH_SHA1, 1000, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 1000, "ffbe76c8b4395810624dd2f1a9fbe76c8b4391b2", 999},
    {RING_HASH_SHA1, 1000, "ffbe76c8b4395810624dd2f1a9fbe76c8b4391b1", 998},
    {RING_HASH_SHA1, 999983, "ffffffffffffffffffffffffffffffffffffffff", 999982},
    {RING_HASH_SHA1, 999983, "fffffffffffffffffffffffffffffffffff5e0a1", 999982},
    {RING_HASH_SHA1, 999983, "fffffffffffffffffffffffffffffffffff5e0a0", 999982},
    {RING_HASH_SHA1, 999983, "000010c70a51ddda011cd30531d046f6e356662e", 0},
    {RING_HASH_SHA1, 999983, "000010c70a51ddda011cd30531d046f6e356662f", 1},
    {RING_HASH_SHA1, 999983, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 999983, "ffffef38f5ae2225fee32cface2fb9091c9f7a72", 999982},
    {RING_HASH_SHA1, 999983, "ffffef38f5ae2225fee32cface2fb9091c9f7a71", 999981},
    {RING_HASH_SHA1, 1000000, "ffffffffffffffffffffffffffffffffffffffff", 999999},
    {RING_HASH_SHA1, 1000000, "fffffffffffffffffffffffffffffffffff7b700", 999999},
    {RING_HASH_SHA1, 1000000, "fffffffffffffffffffffffffffffffffff7b6ff", 999999},
    {RING_HASH_SHA1, 1000000, "000010c6f7a0b5ed8d36b4c7f34938583621fafb", 0},
    {RING_HASH_SHA1, 1000000, "000010c6f7a0b5ed8d36b4c7f34938583621fafc", 1},
    {RING_HASH_SHA1, 1000000, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 1000000, "ffffef39085f4a1272c94b380cb6c7a7c9d5bc04", 999999},
    {RING_HASH_SHA1, 1000000, "ffffef39085f4a1272c94b380cb6c7a7c9d5bc03", 999998},
    {RING_HASH_SHA1, 10000000, "ffffffffffffffffffffffffffffffffffffffff", 9999999},
    {RING_HASH_SHA1, 10000000, "ffffffffffffffffffffffffffffffffffd93280", 9999999},
    {RING_HASH_SHA1, 10000000, "ffffffffffffffffffffffffffffffffffd9327f", 9999999},
    {RING_HASH_SHA1, 10000000, "000001ad7f29abcaf485787a6520ec08d2369918", 0},
    {RING_HASH_SHA1, 10000000, "000001ad7f29abcaf485787a6520ec08d2369919", 1},
    {RING_HASH_SHA1, 10000000, "0000000000000000000000000000000000000000", 0},
    {RING_HASH_SHA1, 10000000, "fffffe5280d654350b7a87859adf13f72da29967", 9999999},
    {RING_HASH_SHA1, 10000000, "fffffe5280d654350b7a87859adf13f72da29966", 9999998},
    {RING_HASH_MD5, 1, "ffffffffffffffffffffffffffffffff", 0},
    {RING_HASH_MD5, 1, "fffffffffffffffffffffffffffffffe", 0},
    {RING_HASH_MD5, 1, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 2, "ffffffffffffffffffffffffffffffff", 1},
    {RING_HASH_MD5, 2, "fffffffffffffffffffffffffffffffe", 1},
    {RING_HASH_MD5, 2, "fffffffffffffffffffffffffffffffd", 1},
    {RING_HASH_MD5, 2, "7ffffffffffffffffffffffffffffffe", 0},
    {RING_HASH_MD5, 2, "7fffffffffffffffffffffffffffffff", 1},
    {RING_HASH_MD5, 2, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 3, "ffffffffffffffffffffffffffffffff", 2},
    {RING_HASH_MD5, 3, "fffffffffffffffffffffffffffffffe", 2},
    {RING_HASH_MD5, 3, "55555555555555555555555555555554", 0},
    {RING_HASH_MD5, 3, "55555555555555555555555555555555", 1},
    {RING_HASH_MD5, 3, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2},
    {RING_HASH_MD5, 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa9", 1},
    {RING_HASH_MD5, 7, "ffffffffffffffffffffffffffffffff", 6},
    {RING_HASH_MD5, 7, "fffffffffffffffffffffffffffffffc", 6},
    {RING_HASH_MD5, 7, "fffffffffffffffffffffffffffffffb", 6},
    {RING_HASH_MD5, 7, "24924924924924924924924924924923", 0},
    {RING_HASH_MD5, 7, "24924924924924924924924924924924", 1},
    {RING_HASH_MD5, 7, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 7, "db6db6db6db6db6db6db6db6db6db6d8", 6},
    {RING_HASH_MD5, 7, "db6db6db6db6db6db6db6db6db6db6d7", 5},
    {RING_HASH_MD5, 1000, "ffffffffffffffffffffffffffffffff", 999},
    {RING_HASH_MD5, 1000, "fffffffffffffffffffffffffffffe38", 999},
    {RING_HASH_MD5, 1000, "fffffffffffffffffffffffffffffe37", 999},
    {RING_HASH_MD5, 1000, "004189374bc6a7ef9db22d0e56041892", 0},
    {RING_HASH_MD5, 1000, "004189374bc6a7ef9db22d0e56041893", 1},
    {RING_HASH_MD5, 1000, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 1000, "ffbe76c8b4395810624dd2f1a9fbe5a5", 999},
    {RING_HASH_MD5, 1000, "ffbe76c8b4395810624dd2f1a9fbe5a4", 998},
    {RING_HASH_MD5, 999983, "ffffffffffffffffffffffffffffffff", 999982},
    {RING_HASH_MD5, 999983, "fffffffffffffffffffffffffff2732a", 999982},
    {RING_HASH_MD5, 999983, "fffffffffffffffffffffffffff27329", 999982},
    {RING_HASH_MD5, 999983, "000010c70a51ddda011cd30531d046f5", 0},
    {RING_HASH_MD5, 999983, "000010c70a51ddda011cd30531d046f6", 1},
    {RING_HASH_MD5, 999983, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 999983, "ffffef38f5ae2225fee32cface222c34", 999982},
    {RING_HASH_MD5, 999983, "ffffef38f5ae2225fee32cface222c33", 999981},
    {RING_HASH_MD5, 1000000, "ffffffffffffffffffffffffffffffff", 999999},
    {RING_HASH_MD5, 1000000, "fffffffffffffffffffffffffffcc600", 999999},
    {RING_HASH_MD5, 1000000, "fffffffffffffffffffffffffffcc5ff", 999999},
    {RING_HASH_MD5, 1000000, "000010c6f7a0b5ed8d36b4c7f3493857", 0},
    {RING_HASH_MD5, 1000000, "000010c6f7a0b5ed8d36b4c7f3493858", 1},
    {RING_HASH_MD5, 1000000, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 1000000, "ffffef39085f4a1272c94b380cb38da8", 999999},
    {RING_HASH_MD5, 1000000, "ffffef39085f4a1272c94b380cb38da7", 999998},
    {RING_HASH_MD5, 10000000, "ffffffffffffffffffffffffffffffff", 9999999},
    {RING_HASH_MD5, 10000000, "ffffffffffffffffffffffffff82b400", 9999999},
    {RING_HASH_MD5, 10000000, "ffffffffffffffffffffffffff82b3ff", 9999999},
    {RING_HASH_MD5, 10000000, "000001ad7f29abcaf485787a6520ec07", 0},
    {RING_HASH_MD5, 10000000, "000001ad7f29abcaf485787a6520ec08", 1},
    {RING_HASH_MD5, 10000000, "00000000000000000000000000000000", 0},
    {RING_HASH_MD5, 10000000, "fffffe5280d654350b7a87859a61c7f8", 9999999},
    {RING_HASH_MD5, 10000000, "fffffe5280d654350b7a87859a61c7f7", 9999998},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const one_pnode[] = {"tcp://127.0.0.1:7001"};

static ring_t *new_ring(ring_algo_t algo, uint32_t n)
{
    char err[RING_ERRLEN] = "";
    ring_t *r = ring_new(algo, n, one_pnode, 1, err);

    if (r == NULL)
        fail_msg("ring_new(%s, %u): %s", ring_algo_name(algo), n, err);
    return r;
}

/* *r is a ring of algo and n, made anew only when it is not one already:
 * the tables are sorted by algorithm and N. */
static void ring_for(ring_t **r, ring_algo_t algo, uint32_t n)
{
    if (*r == NULL || ring_algo(*r) != algo || ring_vnode_count(*r) != n) {
        ring_free(*r);
        *r = new_ring(algo, n);
    }
}

/* A digest in hex, right-aligned in 256 bits. */
static void parse_u256(const char *hex, size_t len, ring_u256_t *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < len; i++) {
        char c = hex[i];
        unsigned d = c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
        assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        out->w[0] = (out->w[0] << 4) | (out->w[1] >> 60);
        out->w[1] = (out->w[1] << 4) | (out->w[2] >> 60);
        out->w[2] = (out->w[2] << 4) | (out->w[3] >> 60);
        out->w[3] = (out->w[3] << 4) | d;
    }
}

static void t_hash_vectors(void **state)
{
    ring_t *r = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(hash_vecs); i++) {
        const hash_vec_t *v = &hash_vecs[i];
        ring_node_t node;
        ring_for(&r, v->algo, v->n);
        if (ring_hash_vnode(r, v->key, v->len) != v->vnode)
            fail_msg("%s N=%u key #%zu (%zu bytes): vnode %u, want %u", ring_algo_name(v->algo), v->n, i,
                     v->len, ring_hash_vnode(r, v->key, v->len), v->vnode);
        ring_lookup(r, v->key, v->len, &node);
        assert_int_equal(node.vnode, v->vnode);
        assert_string_equal(node.name, one_pnode[0]);
    }
    ring_free(r);
}

static void t_intervals(void **state)
{
    char hex[72];
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(interval_vecs); i++) {
        ring_t *r = new_ring(interval_vecs[i].algo, interval_vecs[i].n);
        ring_interval_hex(r, hex, sizeof(hex));
        assert_string_equal(hex, interval_vecs[i].hex);
        ring_free(r);
    }
}

static void t_clamp_edges(void **state)
{
    ring_t *r = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(edge_vecs); i++) {
        const edge_vec_t *v = &edge_vecs[i];
        ring_u256_t h;
        uint32_t got;
        ring_for(&r, v->algo, v->n);
        parse_u256(v->h, strlen(v->h), &h);
        got = ring_digest_vnode(r, &h);
        if (got != v->vnode)
            fail_msg("%s N=%u H=%s: vnode %u, want %u", ring_algo_name(v->algo), v->n, v->h, got, v->vnode);
    }
    ring_free(r);
}

/* Reads tests/vectors/<algo>_div.txt: a header naming the three N, then
 * "H q1 q2 q3" per line; every quotient must match ring_digest_vnode. */
static void check_div_file(ring_algo_t algo, size_t want_lines)
{
    const char *top = getenv("top_srcdir");
    char path[4096], line[256];
    uint32_t ns[3] = {0, 0, 0};
    ring_t *rings[3] = {NULL, NULL, NULL};
    size_t lines = 0, hexlen = ring_algo_digest_len(algo) * 2;
    FILE *f;
    int i;

    if (top == NULL)
        fail_msg("top_srcdir is not set (run the test from make check)");
    snprintf(path, sizeof(path), "%s/tests/vectors/%s_div.txt", top, ring_algo_name(algo));
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *eq = strstr(line, "N = ");
        ring_u256_t h;
        unsigned q[3];
        if (line[0] == '#') {
            if (eq != NULL)
                assert_int_equal(sscanf(eq, "N = %u %u %u", &ns[0], &ns[1], &ns[2]), 3);
            continue;
        }
        if (rings[0] == NULL) {
            for (i = 0; i < 3; i++)
                rings[i] = new_ring(algo, ns[i]);
        }
        assert_true(strlen(line) > hexlen && line[hexlen] == ' ');
        parse_u256(line, hexlen, &h);
        assert_int_equal(sscanf(line + hexlen, "%u %u %u", &q[0], &q[1], &q[2]), 3);
        for (i = 0; i < 3; i++) {
            uint32_t got = ring_digest_vnode(rings[i], &h);
            if (got != q[i])
                fail_msg("%s line %zu N=%u H=%.*s: vnode %u, want %u", path, lines + 1, ns[i], (int)hexlen,
                         line, got, q[i]);
        }
        lines++;
    }
    fclose(f);
    for (i = 0; i < 3; i++)
        ring_free(rings[i]);
    assert_int_equal(lines, want_lines);
}

static void t_div_sha256(void **state) { (void)state; check_div_file(RING_HASH_SHA256, 10000); }
static void t_div_sha1(void **state) { (void)state; check_div_file(RING_HASH_SHA1, 1000); }
static void t_div_md5(void **state) { (void)state; check_div_file(RING_HASH_MD5, 1000); }
static void t_div_xxh3(void **state) { (void)state; check_div_file(RING_HASH_XXH3, 1000); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_hash_vectors),
        cmocka_unit_test(t_intervals),
        cmocka_unit_test(t_clamp_edges),
        cmocka_unit_test(t_div_sha256),
        cmocka_unit_test(t_div_sha1),
        cmocka_unit_test(t_div_md5),
        cmocka_unit_test(t_div_xxh3),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
