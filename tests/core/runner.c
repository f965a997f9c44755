/* tests/core/runner.c: runs every core suite.  Check's own CK_RUN_SUITE=name and
 * CK_RUN_CASE=name select one suite or test case. */
#include "suites.h"

int main(void) {
  Suite *(*const all[])(void) = {error_suite, matrix_suite, logspace_suite, quad_suite, rng_suite, rng_fast_suite, rng_lane_suite,
                                 chol_suite,  kalman_suite, optim_suite,    table_suite, writer_suite,
                                 ode_suite,   lti_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
