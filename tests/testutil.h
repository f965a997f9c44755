/* tests/testutil.h: what every Check runner shares (paths, temporary files, random numbers). */
#ifndef LATENS_TESTS_TESTUTIL_H
#define LATENS_TESTS_TESTUTIL_H
#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Path of a file in the source tree (tests run from the build tree, e.g. under distcheck). */
const char *test_srcpath(const char *rel);
/* mkstemp / mkdtemp of $TMPDIR/latens-STEM-XXXXXX into buf (n bytes); the caller removes it. */
int test_mkstemp(char *path, size_t n, const char *stem);
char *test_mkdtemp(char *dir, size_t n, const char *stem);
/* Non-zero under `make check-valgrind` (LATENS_VALGRIND set): heavy statistical test cases
 * return early there, since valgrind runs them ~50x slower and checks memory, not numbers. */
int test_under_valgrind(void);
/* Runs the given suites (Check's CK_RUN_SUITE / CK_RUN_CASE select one) with the library's
 * error handler off; returns the process exit status. */
int test_run_suites(Suite *(*const *suites)(void), size_t n);

#include "splitmix.h"
#define test_unif latens_splitmix_unif
#endif
