/* tests/sde/suites_solve.h: the suites of the sde solver part; runner.c runs them. */
#ifndef LATENS_TESTS_SDE_SUITES_SOLVE_H
#define LATENS_TESTS_SDE_SUITES_SOLVE_H
#include <check.h>
Suite *sde_order_suite(void);
Suite *sde_ensemble_suite(void);
Suite *sde_model_suite(void);
#include "../testutil.h"
#endif
