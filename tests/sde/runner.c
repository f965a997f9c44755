/* tests/sde/runner.c: the sde solver suites (problem definition, schemes, adaptivity,
 * ensembles).  CK_RUN_SUITE / CK_RUN_CASE select one. */
#include "suites_solve.h"

int main(void) {
  Suite *(*const all[])(void) = {sde_model_suite, sde_order_suite, sde_ensemble_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
