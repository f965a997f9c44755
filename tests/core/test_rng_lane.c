/* tests/core/test_rng_lane.c: latens_rng_lane (placeholder until the oracle tests land). */
#include <latens/latens.h>
#include "suites.h"

START_TEST(test_lane_placeholder) {
  latens_rng_fast f;
  latens_rng_lane l;
  ck_assert_int_eq(latens_rng_fast_init(&f, 1, 0), LATENS_OK);
  ck_assert_int_eq(latens_rng_fast_lane(&f, 0, &l), LATENS_OK);
}
END_TEST

Suite *rng_lane_suite(void) {
  Suite *s = suite_create("rng_lane");
  TCase *tc = tcase_create("lane");
  tcase_add_test(tc, test_lane_placeholder);
  suite_add_tcase(s, tc);
  return s;
}
