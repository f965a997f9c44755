/* tests/sde/runner_infer.c: runs every sde inference suite (CK_RUN_SUITE selects one). */
#include "infer_suites.h"

int main(void) {
  Suite *(*const all[])(void) = {sde_kalman_suite, sde_moments_suite, sde_pf_suite,
                                 sde_match_suite,  sde_ou_fit_suite,  sde_match_mc_suite,
                                 sde_ssm_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
