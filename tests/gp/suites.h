/* tests/gp/suites.h: the gp (local part) suites; runner.c runs them all. */
#ifndef LATENS_TESTS_GP_SUITES_H
#define LATENS_TESTS_GP_SUITES_H
#include <check.h>
Suite *gp_kernel_suite(void);
Suite *gp_inference_suite(void);
Suite *gp_fit_suite(void);

#include "../testutil.h"
#endif
