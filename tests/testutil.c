/* tests/testutil.c: helpers linked into every Check runner. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <latens/latens.h>
#include "testutil.h"

const char *test_srcpath(const char *rel) {
  static _Thread_local char buf[4096];
  const char *root = getenv("LATENS_SRCDIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
  return buf;
}

/* Temporary files and folders go under $TMPDIR (default /tmp), named latens-STEM-XXXXXX. */
static void tmp_template(char *buf, size_t n, const char *stem) {
  const char *root = getenv("TMPDIR");
  snprintf(buf, n, "%s/latens-%s-XXXXXX", root && *root ? root : "/tmp", stem);
}

int test_mkstemp(char *path, size_t n, const char *stem) {
  tmp_template(path, n, stem);
  return mkstemp(path);
}

char *test_mkdtemp(char *dir, size_t n, const char *stem) {
  tmp_template(dir, n, stem);
  return mkdtemp(dir);
}

int test_under_valgrind(void) {
  const char *v = getenv("LATENS_VALGRIND");
  return v && *v && *v != '0';
}

int test_run_suites(Suite *(*const *suites)(void), size_t n) {
  /* Tests provoke errors on purpose; the default handler would flood the log. */
  latens_set_error_handler_off();
  SRunner *sr = srunner_create(suites[0]());
  for (size_t i = 1; i < n; i++) srunner_add_suite(sr, suites[i]());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
