#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "ring.h"
static void t_placeholder(void **state) { (void)state; assert_int_equal(ring_algo_digest_len(RING_HASH_SHA256), 32); }
int main(void) { const struct CMUnitTest tests[] = { cmocka_unit_test(t_placeholder) }; return cmocka_run_group_tests(tests, NULL, NULL); }
