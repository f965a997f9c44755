/* tests/core/suites.h: one Check suite per core area; runner.c runs them all. */
#ifndef LATENS_TESTS_CORE_SUITES_H
#define LATENS_TESTS_CORE_SUITES_H
#include <check.h>
Suite *error_suite(void);
Suite *matrix_suite(void);
Suite *logspace_suite(void);
Suite *quad_suite(void);
Suite *rng_suite(void);
Suite *rng_fast_suite(void);
Suite *rng_lane_suite(void);
Suite *chol_suite(void);
Suite *kalman_suite(void);
Suite *optim_suite(void);
Suite *table_suite(void);
Suite *writer_suite(void);
Suite *ode_suite(void);
Suite *lti_suite(void);

#include "../testutil.h"
#endif
