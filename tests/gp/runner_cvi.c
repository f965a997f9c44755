/* tests/gp/runner_cvi.c: the gp cvi part's suites (CVI, information filter, GPFA).  Check's
 * CK_RUN_SUITE=name and CK_RUN_CASE=name select one. */
#include "cvi_suites.h"

int main(void) {
  Suite *(*const all[])(void) = {cvi_suite, gpfa_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
