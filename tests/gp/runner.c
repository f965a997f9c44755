/* tests/gp/runner.c: runs every gp (local part) suite.  CK_RUN_SUITE / CK_RUN_CASE select. */
#include "suites.h"

int main(void) {
  Suite *(*const all[])(void) = {gp_kernel_suite, gp_inference_suite, gp_fit_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
