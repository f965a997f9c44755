/* tests/core/suites.h: one Check suite per core area; runner.c runs them all. */
#ifndef LATENS_TESTS_CORE_SUITES_H
#define LATENS_TESTS_CORE_SUITES_H
#include <check.h>
#include <stdint.h>
Suite *error_suite(void);
Suite *matrix_suite(void);
Suite *logspace_suite(void);
Suite *quad_suite(void);
Suite *rng_suite(void);
Suite *chol_suite(void);
Suite *kalman_suite(void);
Suite *optim_suite(void);
Suite *table_suite(void);
Suite *writer_suite(void);
Suite *ode_suite(void);
Suite *lti_suite(void);

/* Path of a file in the source tree (tests run from the build tree, e.g. under distcheck). */
const char *test_srcpath(const char *rel);

/* splitmix64 mapped to (-1, 1): fixed test data on every platform, independent of the
 * library's own generators (so the code under test never makes its own inputs). */
static inline double test_unif(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return 2.0 * ((z >> 11) * 0x1.0p-53) - 1.0;
}
#endif
