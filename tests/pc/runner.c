/* tests/pc/runner.c: runs the circuit core's suites (CK_RUN_SUITE=pc_query etc. selects). */
#include "suites.h"

int main(void) {
  Suite *(*const all[])(void) = {pc_build_suite, pc_query_suite, pc_em_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
