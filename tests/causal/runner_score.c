/* tests/causal/runner_score.c: runs the causal_score suites (LiNGAM family, cumulant method,
 * NOTEARS, GES, bootstrap).  CK_RUN_SUITE=name selects one. */
#include "score_suites.h"

int main(void) {
  Suite *(*const all[])(void) = {score_lingam_suite, score_cumulant_suite, score_notears_suite, score_ges_suite, score_bootstrap_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
