/* tests/pc/runner_learn.c: runs the pc learning suites (CK_RUN_SUITE selects one). */
#include "learn_suites.h"

int main(void) {
  Suite *(*const all[])(void) = {learn_tree_suite, learn_hclt_suite, learn_circuit_suite,
                                 learn_pic_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
