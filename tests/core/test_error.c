/* tests/core/test_error.c: status strings, handler replacement, per-thread last error. */
#include <config.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <latens/latens.h>
#include "suites.h"

static int seen_status, seen_calls;
static char seen_reason[256];
static void recording_handler(const char *reason, const char *file, int line, int status) {
  (void)file, (void)line;
  seen_calls++;
  seen_status = status;
  strncpy(seen_reason, reason, sizeof seen_reason - 1);
}

START_TEST(strerror_covers_every_code) {
  for (int s = 0; s < LATENS_NSTATUS; s++) {
    ck_assert_ptr_nonnull(latens_strerror(s));
    ck_assert_str_ne(latens_strerror(s), "unknown status");
  }
  ck_assert_str_eq(latens_strerror(-1), "unknown status");
  ck_assert_str_eq(latens_strerror(LATENS_NSTATUS), "unknown status");
}
END_TEST

static int fails_with_format(int n) { LATENS_ERRORF(LATENS_EBADLEN, "expected %d columns", n); }

START_TEST(handler_is_called_and_restorable) {
  latens_error_handler_t *old = latens_set_error_handler(recording_handler);
  seen_calls = 0;
  ck_assert_int_eq(fails_with_format(7), LATENS_EBADLEN);
  ck_assert_int_eq(seen_calls, 1);
  ck_assert_int_eq(seen_status, LATENS_EBADLEN);
  ck_assert_str_eq(seen_reason, "expected 7 columns");
  const char *why;
  ck_assert_int_eq(latens_last_error(&why), LATENS_EBADLEN);
  ck_assert_str_eq(why, "expected 7 columns");
  latens_clear_error();
  ck_assert_int_eq(latens_last_error(&why), LATENS_OK);
  ck_assert_str_eq(why, "");
  /* Turning the handler off still records the error. */
  latens_set_error_handler_off();
  seen_calls = 0;
  ck_assert_int_eq(fails_with_format(3), LATENS_EBADLEN);
  ck_assert_int_eq(seen_calls, 0);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EBADLEN);
  latens_set_error_handler(old);
}
END_TEST

/* A quiet section on one thread records errors without calling the handler, nests, and leaves
 * other threads alone: the oracle is the handler's call count on each thread. */
START_TEST(quiet_sections_are_per_thread) {
  latens_error_handler_t *old = latens_set_error_handler(recording_handler);
  seen_calls = 0;
  latens_error_quiet_begin();
  latens_error_quiet_begin();
  ck_assert_int_eq(fails_with_format(4), LATENS_EBADLEN);
  latens_error_quiet_end();
  ck_assert_int_eq(fails_with_format(5), LATENS_EBADLEN);
  const char *why;
  ck_assert_int_eq(latens_last_error(&why), LATENS_EBADLEN);
  ck_assert_str_eq(why, "expected 5 columns");
  ck_assert_int_eq(seen_calls, 0);
  int other_calls = -1;
#ifdef _OPENMP
#pragma omp parallel num_threads(2)
  if (omp_get_thread_num() == 1) { /* a thread that never began a quiet section */
    (void)fails_with_format(6);
    other_calls = seen_calls;
  }
#endif
  latens_error_quiet_end();
  latens_error_quiet_end(); /* one end too many is harmless */
  ck_assert_int_eq(fails_with_format(7), LATENS_EBADLEN);
#ifdef _OPENMP
  if (other_calls >= 0) ck_assert_int_eq(seen_calls, 2);
  else ck_assert_int_eq(seen_calls, 1);
#else
  ck_assert_int_eq(seen_calls, 1);
#endif
  latens_set_error_handler(old);
}
END_TEST

START_TEST(default_handler_returns) {
  /* The default handler prints and returns: reaching the next line is the assertion. */
  latens_error_handler_t *old = latens_set_error_handler(NULL);
  latens_error("deliberate test error, please ignore", __FILE__, __LINE__, LATENS_EINVAL);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  latens_set_error_handler(old);
}
END_TEST

static int stop_at_three(void *user, const char *what, double done, double total) {
  (void)what, (void)total;
  *(int *)user += 1;
  return done >= 3;
}

START_TEST(progress_stop_becomes_interrupted) {
  int calls = 0;
  latens_progress p = {stop_at_three, &calls};
  ck_assert_int_eq(latens_progress_report(NULL, "x", 1, 10), LATENS_OK);
  ck_assert_int_eq(latens_progress_report(&p, "x", 1, 10), LATENS_OK);
  ck_assert_int_eq(latens_progress_report(&p, "x", 3, 10), LATENS_EINTERRUPTED);
  ck_assert_int_eq(calls, 2);
}
END_TEST

START_TEST(build_facts) {
  ck_assert_str_eq(latens_version(), PACKAGE_VERSION);
  ck_assert(strcmp(latens_blas_name(), "openblas") == 0 || strcmp(latens_blas_name(), "gsl") == 0);
  /* The BLAS configure chose must be the one the dynamic linker actually bound. */
  const char *rt = latens_blas_runtime();
  if (strcmp(latens_blas_name(), "openblas") == 0) ck_assert_ptr_nonnull(strstr(rt, "openblas"));
  else ck_assert_ptr_nonnull(strstr(rt, "gslcblas"));
  ck_assert_int_ge(latens_max_threads(), 1);
  ck_assert_int_ge(latens_sundials_version_major(), 6);
}
END_TEST

Suite *error_suite(void) {
  Suite *s = suite_create("error");
  TCase *tc = tcase_create("error");
  tcase_add_test(tc, strerror_covers_every_code);
  tcase_add_test(tc, handler_is_called_and_restorable);
  tcase_add_test(tc, quiet_sections_are_per_thread);
  tcase_add_test(tc, default_handler_returns);
  tcase_add_test(tc, progress_stop_becomes_interrupted);
  tcase_add_test(tc, build_facts);
  suite_add_tcase(s, tc);
  return s;
}
