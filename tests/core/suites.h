/* tests/core/suites.h: one Check suite per core area; runner.c runs them all. */
#ifndef LATENS_TESTS_CORE_SUITES_H
#define LATENS_TESTS_CORE_SUITES_H
#include <check.h>
#include <stddef.h>
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
/* mkstemp / mkdtemp of $TMPDIR/latens-STEM-XXXXXX into buf (n bytes); the caller removes it. */
int test_mkstemp(char *path, size_t n, const char *stem);
char *test_mkdtemp(char *dir, size_t n, const char *stem);

#include "../splitmix.h"
#define test_unif latens_splitmix_unif
#endif
